#!/usr/bin/python3
"""Re-save an .npz with np.savez_compressed (every record deflated), as some published checkpoints are.

    /usr/bin/python3 scripts/make_compressed_npz.py IN.npz OUT.npz

test/npz-compressed.test.ts runs it on test/fixtures/arch/bit_r50x1_div16.npz (so the repository holds
one copy of those weights) and checks the deflated file reads to the same arrays and embeddings.
"""

import sys
import zipfile

import numpy as np


def main(src: str, dst: str) -> None:
    with np.load(src, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    np.savez_compressed(dst, **arrays)
    with zipfile.ZipFile(dst) as z:
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in z.infolist()), "not every record is deflated"


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
