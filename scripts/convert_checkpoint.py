#!/usr/bin/env python
"""Convert an EgoVLP checkpoint (e.g. the released egovlp.pth, as it is) to a Hub-style folder.

    python scripts/convert_checkpoint.py pretrained/egovlp.pth hub/egovlp
    # then: egovlp.inference.load_model('hub/egovlp')  or  EgoVLP.from_pretrained('hub/egovlp')
"""
from egovlp.inference import convert_cli

if __name__ == '__main__': convert_cli()
