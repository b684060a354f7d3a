#!/usr/bin/env python
"""Build an EPIC-Kitchens-100 MIR caption relevancy matrix (JPoSE definition, deterministic), e.g. the test one that
EPIC does not distribute (original issue #24):

    python scripts/epic_relevancy.py EPIC_100_retrieval_test.csv EPIC_100_retrieval_test_sentence.csv \\
        relevancy/caption_relevancy_EPIC_100_retrieval_test.pkl
"""
import argparse, time
from egovlp.epic import build_relevancy, save_relevancy

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('clip_csv'); p.add_argument('sentence_csv'); p.add_argument('out_pkl')
    a = p.parse_args()
    t0 = time.time()
    rel = build_relevancy(a.clip_csv, a.sentence_csv)
    save_relevancy(rel, a.out_pkl)
    print(f"{a.out_pkl}: {rel.shape[0]} clips x {rel.shape[1]} sentences, float64, "
          f"{(rel == 1).mean()*100:.2f}% exactly relevant, {(rel > 0.1).mean()*100:.2f}% above 0.1 ({time.time() - t0:.1f} s)")
