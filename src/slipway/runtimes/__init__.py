"""Compiled runtimes: the model compiled to ONNX at build time, used only once verified.

``compile`` is the build step (convert, check parity against the native model, record the
result); ``onnx_runtime`` runs the compiled model on numpy columns; ``selection`` picks the
runtime for serving, batch and the gate (``auto``: compiled when verified, else native);
``threads`` keeps workers x model threads within the cores.
"""
