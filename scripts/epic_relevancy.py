#!/usr/bin/env python
"""Build an EPIC-Kitchens-100 MIR caption relevancy matrix (JPoSE definition, deterministic), e.g. the test one that
EPIC does not distribute (original issue #24):

    python scripts/epic_relevancy.py EPIC_100_retrieval_test.csv EPIC_100_retrieval_test_sentence.csv \\
        relevancy/caption_relevancy_EPIC_100_retrieval_test.pkl

Exit status 0 on success (one line on stdout), 1 with one `error: ...` line on stderr (a missing or malformed csv).
"""
import argparse, sys, time

def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('clip_csv'); p.add_argument('sentence_csv'); p.add_argument('out_pkl')
    a = p.parse_args(argv)
    from egovlp.tasks.epic_mir import build_relevancy, save_relevancy
    t0 = time.time()
    try:
        rel = build_relevancy(a.clip_csv, a.sentence_csv)
        save_relevancy(rel, a.out_pkl)
    except (OSError, ValueError) as e:
        print(f"error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print(f"{a.out_pkl}: {rel.shape[0]} clips x {rel.shape[1]} sentences, float64, "
          f"{(rel == 1).mean()*100:.2f}% exactly relevant, {(rel > 0.1).mean()*100:.2f}% above 0.1 ({time.time() - t0:.1f} s)")
    return 0

if __name__ == '__main__': sys.exit(main())
