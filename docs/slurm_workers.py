# slurm_workers.py: Dask workers as Slurm jobs (dask-jobqueue) for grade batch --executor dask
"""Start ``--jobs`` Slurm jobs of one Dask worker each and write a scheduler file.

    python slurm_workers.py --queue gpu --account cs-course --jobs 8 --scheduler-file sched.json

Run it with the course's venv python (on the shared filesystem: the workers run the same
python) from the course folder, on the login node or inside a small sbatch job. Each job
books ``--cpus`` CPUs, ``--memory`` and ``--gpus`` GPUs and runs one worker with one thread
(one submission at a time). Ctrl-C (or SIGTERM) cancels the jobs and removes the file.
"""

import argparse
import signal
import sys
import time

from dask_jobqueue import SLURMCluster


def seconds(walltime: str) -> int:
    """Slurm's ``[D-]HH:MM:SS`` in seconds."""
    days, _, clock = walltime.rpartition("-")
    h, m, s = (int(x) for x in clock.split(":"))
    return int(days or 0) * 86400 + h * 3600 + m * 60 + s


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--queue", help="the partition (default: the cluster's default)")
    p.add_argument("--account", help="the allocation to charge (default: yours)")
    p.add_argument("--jobs", type=int, default=8, help="Slurm jobs, one worker each")
    p.add_argument("--gpus", type=int, default=1, help="GPUs per job (0: CPU only)")
    p.add_argument("--cpus", type=int, default=4, help="CPUs per job")
    p.add_argument("--memory", default="32GB", help="memory per job")
    p.add_argument("--walltime", default="02:00:00", help="time limit of each job")
    p.add_argument("--log-dir", default="slurm-logs", help="the jobs' stdout and stderr")
    p.add_argument("--scheduler-file", default="scheduler.json", help="for grade --scheduler")
    args = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # scancel the jobs on the way out
    # A worker retires before its job's walltime (its task goes to another worker) and
    # adapt() below submits a job in its place: a batch outlives any one job.
    margin = min(300, seconds(args.walltime) // 4)
    lifetime = ["--lifetime", f"{seconds(args.walltime) - margin}s",
                "--lifetime-stagger", f"{margin // 2}s"]

    with SLURMCluster(
        queue=args.queue,
        account=args.account,
        cores=1, processes=1,            # one worker per job, one submission at a time,
        job_cpu=args.cpus,               # with this many CPUs booked for its judge
        memory=args.memory,
        job_extra_directives=[f"--gres=gpu:{args.gpus}"] if args.gpus else [],
        walltime=args.walltime,
        worker_extra_args=[*lifetime, "--no-dashboard"],
        python=sys.executable,           # the course's venv
        log_directory=args.log_dir,
        scheduler_options={"dashboard_address": None, "scheduler_file": args.scheduler_file},
    ) as cluster:
        cluster.adapt(minimum_jobs=args.jobs, maximum_jobs=args.jobs)
        print(f"{cluster.scheduler_address}: {args.jobs} jobs asked for; scheduler file "
              f"{args.scheduler_file}; Ctrl-C to stop", flush=True)
        while True:
            time.sleep(60)


if __name__ == "__main__":
    main()
