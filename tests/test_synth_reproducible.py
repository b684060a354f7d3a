"""Every mini dataset's tiny configuration, generated twice into two roots, is the same byte for byte (videos, JPEGs,
csv/json/pkl files, symlink targets): the generators are a function of their seed and parameters alone."""
import os
from pathlib import Path

import pytest

from egovlp.synth import make_mini_egoclip, MINI_TINY
from egovlp.minidata import (make_mini_epic, MINI_EPIC_TINY, make_mini_charades, MINI_CHARADES_TINY, make_mini_episodic,
                             MINI_EPISODIC_TINY, make_mini_fho, MINI_FHO_TINY)

GENERATORS = {'egoclip': (make_mini_egoclip, MINI_TINY), 'epic': (make_mini_epic, MINI_EPIC_TINY),
              'charades': (make_mini_charades, MINI_CHARADES_TINY), 'episodic': (make_mini_episodic, MINI_EPISODIC_TINY),
              'fho': (make_mini_fho, MINI_FHO_TINY)}

def contents(root: Path) -> dict:
    "relative path -> bytes of every file (a symlink: its target), the completion marker included."
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = Path(dirpath)/n
            if p.is_symlink(): out[str(p.relative_to(root))] = ('link', os.readlink(p))
            elif p.is_file(): out[str(p.relative_to(root))] = p.read_bytes()
    return out

@pytest.mark.parametrize('name', list(GENERATORS))
def test_tiny_twice_same_bytes(name, tmp_path):
    make, tiny = GENERATORS[name]
    a, b = contents(make(tmp_path/'a', **tiny)), contents(make(tmp_path/'b', **tiny))
    assert any(k.lower().endswith(('.mp4',)) for k in a), sorted(a)[:5]      # videos are part of what is compared
    assert sorted(a) == sorted(b)
    different = [k for k in a if a[k] != b[k]]
    assert not different, f"{name}: {len(different)} of {len(a)} files differ, e.g. {different[:5]}"
