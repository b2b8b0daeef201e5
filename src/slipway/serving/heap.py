"""Keep the cyclic garbage collector off the loaded model.

A loaded model and its libraries (scikit-learn, pandas, onnxruntime, pyarrow) leave ~250,000
long-lived objects in the process. Every full collection walks all of them: ~125 ms here, during
which the event loop answers nothing (it was the whole p99 of the serving benchmark at 32
connections: 120 ms against 8 ms for a minimal server). Once the model is loaded and warmed,
``gc.freeze()`` moves them to the permanent generation, so collections only walk what requests
create. Frozen objects are still freed by reference counting; only cycles among them stay.
"""

from __future__ import annotations

import gc


def freeze_loaded_objects(*, collect: bool = True) -> None:
    """Exclude every object alive now from future garbage collections (call after warm-up).

    ``collect`` first frees what is garbage now rather than freezing it; a server that already
    answers requests passes False (the collection would stall them).
    """
    if collect:
        gc.collect()
    gc.freeze()
