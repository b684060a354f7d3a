#!/usr/bin/env python
"""Resize Ego4D videos so the short side is 256 px and cut them into 600-s chunks (nbs/07_preprocess.ipynb).

    python scripts/preprocess_ego4d.py --src dataset/ego4d/v1/full_scale --out dataset/ego4d_256/data_chunked --workers 16
    python scripts/preprocess_ego4d.py --src dataset/ego4d/v1/full_scale --manifest dataset/manifest.csv ...
    python scripts/preprocess_ego4d.py --src dataset/ego4d/v1/full_scale --no-chunk     # dataset/ego4d_256/data/<uid>.mp4 (NLQ, MQ)

Resumable: re-running skips finished chunks. Exits with status 1, listing every failed video, if any failed.
"""
import argparse, os, sys
from egovlp.core import get_logger
from egovlp.preprocess import find_sources, preprocess_many, PreprocessError, DEFAULT_KEYINT, DEFAULT_TUNE

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--src', required=True, help='directory of <video_uid>.mp4 source videos')
    p.add_argument('--manifest', help='csv listing the video uids to process (column video_uid, else column 0)')
    p.add_argument('--out', help='output directory (default dataset/ego4d_256/data_chunked, or dataset/ego4d_256/data with --no-chunk)')
    p.add_argument('--workers', type=int, default=max(1, (os.cpu_count() or 2) // 2), help='videos processed in parallel')
    p.add_argument('--threads', type=int, default=None, help='ffmpeg threads per video (default: ffmpeg decides; 1 when workers >= cores)')
    p.add_argument('--keyint', type=int, default=DEFAULT_KEYINT, help='frames between keyframes (see the notebook for the trade-off)')
    p.add_argument('--chunk-sec', type=float, default=600, help='chunk length in seconds')
    p.add_argument('--no-chunk', action='store_true', help='resize only: write <out>/<uid>.mp4')
    p.add_argument('--short-side', type=int, default=256)
    p.add_argument('--tune', default=DEFAULT_TUNE or 'none', help="x264 tune ('none' = x264's default; see the notebook)")
    p.add_argument('--crf', type=int, default=23)
    p.add_argument('--preset', default='medium', help='x264 preset')
    p.add_argument('--fps', type=float, default=None, help='resample to this constant frame rate (default: keep the source rate)')
    p.add_argument('--overwrite', action='store_true', help='redo outputs that already exist')
    p.add_argument('--strict', action='store_true', help='fail if a manifest video is missing from --src')
    p.add_argument('--log-file', default=None)
    a = p.parse_args(argv)
    log = get_logger('egovlp.preprocess', log_file=a.log_file)
    out = a.out or ('dataset/ego4d_256/data' if a.no_chunk else 'dataset/ego4d_256/data_chunked')
    threads = a.threads if a.threads is not None else (1 if a.workers >= (os.cpu_count() or 1) else None)
    try:
        srcs = find_sources(a.src, a.manifest, strict=a.strict)
        log.info(f'{len(srcs)} videos from {a.src} -> {out}')
        preprocess_many(srcs, out, workers=a.workers, short_side=a.short_side, chunk_sec=None if a.no_chunk else a.chunk_sec,
                        keyint=a.keyint, tune=None if a.tune == 'none' else a.tune, crf=a.crf, preset=a.preset, fps=a.fps, threads=threads, overwrite=a.overwrite)
    except PreprocessError as e:
        log.error(str(e))
        return 1
    return 0

if __name__ == '__main__': sys.exit(main())
