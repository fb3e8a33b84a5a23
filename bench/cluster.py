"""The same lazy prediction locally and on a dask.distributed LocalCluster of 1 and 2 workers.

Worker processes (one thread each) on loopback; the model travels to them as its bundle bytes.
Reports wall time (the cluster's start-up excluded, the workers' model loading included) and
whether every result equals the local one.

    python bench/cluster.py --model /tmp/isbi16.keras --size 2048
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from _common import DATA, load_isbi, machine, today


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA / "isbi2012-em")
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--chunk-tile", type=int, default=768, help="tile (chunk + margins)")
    args = parser.parse_args()
    import dask.array as da
    from distributed import LocalCluster

    from napari_segdl import load_model, predict

    model = load_model(args.model)
    slice0 = load_isbi(args.data, [0])[0][0]
    reps = -(-args.size // 512)
    image = da.from_array(np.tile(slice0, (reps, reps))[: args.size, : args.size], chunks=1024)
    start = time.perf_counter()
    local = predict(model, image, tile=args.chunk_tile).compute()
    rows = [{"where": "local threads", "seconds": round(time.perf_counter() - start, 1)}]
    for workers in (1, 2):
        with LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster:
            start = time.perf_counter()
            remote = predict(
                model, image, tile=args.chunk_tile, scheduler=cluster.scheduler_address
            )
            seconds = time.perf_counter() - start
        rows.append(
            {
                "where": f"LocalCluster, {workers} worker process(es)",
                "seconds": round(seconds, 1),
                "identical_to_local": bool(np.array_equal(remote, local)),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    print(
        json.dumps(
            {"date": today(), "machine": machine(), "size": args.size, "runs": rows}, indent=1
        )
    )


if __name__ == "__main__":
    main()
