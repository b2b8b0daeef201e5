"""Model flavors: how each kind of model is saved into and rebuilt from an artifact."""
