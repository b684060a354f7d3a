__version__ = "0.1.0"

_API = {'load_model': 'inference', 'EgoVLP': 'inference', 'zero_shot_classify': 'inference',
        'similarity': 'inference', 'probabilities': 'inference'}

def __getattr__(name: str):
    "`egovlp.load_model` & co. and `egovlp.<submodule>`, imported on first use: `import egovlp` itself stays light (no torch)."
    import importlib, importlib.util
    if name in _API: return getattr(importlib.import_module(f'egovlp.{_API[name]}'), name)
    if not name.startswith('_') and importlib.util.find_spec(f'egovlp.{name}') is not None:
        return importlib.import_module(f'egovlp.{name}')
    raise AttributeError(f"module 'egovlp' has no attribute {name!r}")

def __dir__(): return sorted([*globals(), *_API])
