"""The registry: models, versions, aliases, tags, and the audit trail, over a MetadataStore port."""
