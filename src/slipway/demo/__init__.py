"""``slipway demo``: the whole life cycle on the two examples, on embedded defaults.

The demo is a list of stages sharing one ``DemoContext``; each capability adds its own stage
module (registry, validation, serving, rollout, batch) so the demo grows with the product.
"""
