"""The M/M/c queue of `archsim validate` (c = 4, rho = 0.8, mean service 1 ms) in
SimPy, for the side-by-side comparison with the archsim engine
(bench/compare_simpy.sh). Prints the same key=value line as
`cargo run --release --example mmc_bench`. Events are counted as the model's events,
an arrival and a departure per customer, as on the Rust side.

Usage: python3 bench/mmc_simpy.py [customers] [servers] [rho] [seed]
Needs: pip install simpy
"""
import random
import resource
import sys
import time

import simpy


def main():
    customers = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    servers = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    rho = float(sys.argv[3]) if len(sys.argv) > 3 else 0.8
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    mu = 1000.0  # per second: mean service 1 ms
    lam = rho * servers * mu
    rng = random.Random(seed)
    env = simpy.Environment()
    pool = simpy.Resource(env, capacity=servers)
    stats = {"wait": 0.0, "waited": 0}

    def customer(env):
        arrived = env.now
        with pool.request() as req:
            yield req
            w = env.now - arrived
            stats["wait"] += w
            if w > 0:
                stats["waited"] += 1
            yield env.timeout(rng.expovariate(mu))

    def source(env):
        for _ in range(customers):
            env.process(customer(env))
            yield env.timeout(rng.expovariate(lam))

    env.process(source(env))
    t0 = time.perf_counter()
    env.run()
    secs = time.perf_counter() - t0
    events = 2 * customers
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(
        f"engine=simpy customers={customers} events={events} seconds={secs:.3f} "
        f"events_per_s={events / secs:.0f} peak_rss_kb={rss} "
        f"mean_wait_x_mu={stats['wait'] / customers * mu:.4f} "
        f"p_wait={stats['waited'] / customers:.4f}"
    )


if __name__ == "__main__":
    main()
