#!/usr/bin/env python3
"""PyTorch side of `pnpm bench --torch`: the five benchmark configurations
in PyTorch, written the way the DCEM and LML reference code computes them,
and PlaNet's recurrent state-space model (planet_imagine, planet_update) at
PlaNet's sizes, the same computation as @dcem/tasks/planet.

For each configuration it prints one JSON line on stdout:

  {"config", "impl": "torch", "fwd_ms", "fwd_bwd_ms", "fwd_ms_min",
   "fwd_bwd_ms_min", "repeats", "warmup", "dtype", "threads",
   "omp_wait_policy", "malloc", "blas", "torch", "loss", "grad_norm", "iterations",
   "info"}

fwd_ms is the median time of the loss computed with autograd recording (what
a training step pays before its backward pass); fwd_bwd_ms the median time of
the loss and its backward pass to the configuration's parameters. The *_min
fields are the fastest runs. Every run reseeds torch's generator, so every
run draws the same samples; loss and grad_norm come from one extra run.

The matrix products of the MLP configurations run on whatever BLAS library
torch is linked against. Debian's python3-torch uses the system's
libblas.so.3, which is the slow netlib reference BLAS unless an optimised one
is installed (apt-get install -y libopenblas0-pthread). Every row names the
library ("blas"), and the script refuses to time on netlib unless
--allow-netlib is given: a PyTorch installed from PyPI never runs on netlib,
so such a comparison would say nothing about PyTorch.

Usage (Debian: apt-get install -y python3-torch python3-numpy
libopenblas0-pthread; run it with /usr/bin/python3):

  /usr/bin/python3 bench/torch_compare.py                 # all, float32
  /usr/bin/python3 bench/torch_compare.py --configs lml_small,dcem_quadratic
  /usr/bin/python3 bench/torch_compare.py --dtype float64 --repeats 15
"""

import argparse
import json
import math
import os
import statistics
import sys
import time

CONFIGS = ("lml_small", "lml_large", "dcem_quadratic", "dcem_regression",
           "dcem_cartpole_embed", "planet_imagine", "planet_update")


def parse_args(argv):
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--configs", nargs="+", default=[",".join(CONFIGS)],
                    help="names, comma- or space-separated (default: all)")
    ap.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    ap.add_argument("--repeats", type=int, default=9,
                    help="timed runs of each kind (at least 3; default 9)")
    ap.add_argument("--warmup", type=int, default=2,
                    help="untimed forward+backward runs first (default 2)")
    ap.add_argument("--threads", type=int, default=2,
                    help="torch.set_num_threads (default 2)")
    ap.add_argument("--omp-wait-policy", choices=("passive", "active", "default"),
                    default=None,
                    help="OpenMP wait policy; without it PASSIVE unless "
                         "OMP_WAIT_POLICY is exported ('default': libgomp's own)")
    ap.add_argument("--malloc", choices=("keep", "default"), default="keep",
                    help="'keep' (default): glibc malloc keeps freed memory instead "
                         "of returning it to the system (GLIBC_TUNABLES trim and mmap "
                         "thresholds raised; the script re-executes itself with them), "
                         "as a caching allocator would; 'default': glibc's own")
    ap.add_argument("--allow-netlib", action="store_true",
                    help="time even on the netlib reference BLAS (rows say so)")
    args = ap.parse_args(argv)
    names = [n for chunk in args.configs for n in chunk.split(",") if n]
    for n in names:
        if n not in CONFIGS:
            ap.error(f"--configs: unknown configuration {n!r}; known: {', '.join(CONFIGS)}")
    args.configs = names
    if args.repeats < 3:
        ap.error(f"--repeats must be an integer >= 3, received {args.repeats}")
    if args.warmup < 0:
        ap.error(f"--warmup must be an integer >= 0, received {args.warmup}")
    if args.threads < 1:
        ap.error(f"--threads must be an integer >= 1, received {args.threads}")
    return args


ARGS = parse_args(sys.argv[1:])

# glibc returns large freed blocks to the system and takes them back on the
# next allocation; every first touch of those pages is a page fault, which on
# small VMs costs about 15 µs per 4 KiB page. PyTorch allocates and frees a
# tensor per operation, so with glibc's defaults its timings here were
# dominated (and made erratic: medians 5 to 12 times the minimum) by page
# faults that an optimised install (jemalloc, tcmalloc, or a machine with
# cheap faults) does not pay. 'keep' raises the thresholds, so freed memory
# stays with the process; GLIBC_TUNABLES is read when a process starts, hence
# the re-execution.
MALLOC_KEEP = "glibc.malloc.mmap_threshold=4294967295:glibc.malloc.trim_threshold=4294967295"
if ARGS.malloc == "keep" and MALLOC_KEEP not in os.environ.get("GLIBC_TUNABLES", ""):
    env = dict(os.environ)
    env["GLIBC_TUNABLES"] = ":".join(t for t in (env.get("GLIBC_TUNABLES"), MALLOC_KEEP) if t)
    os.execve(sys.executable, [sys.executable, *sys.argv], env)

# libgomp reads OMP_WAIT_POLICY once, when torch loads its OpenMP runtime, so
# it is set before the import. PASSIVE by default: on a small shared machine
# busy-waiting threads made two-thread timings erratic.
if ARGS.omp_wait_policy == "default":
    os.environ.pop("OMP_WAIT_POLICY", None)
elif ARGS.omp_wait_policy is not None:
    os.environ["OMP_WAIT_POLICY"] = ARGS.omp_wait_policy.upper()
else:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

try:
    import torch
    from torch import nn
except ImportError as error:
    sys.exit(f"torch_compare.py: cannot import torch ({error}); on Debian: "
             "apt-get install -y python3-torch python3-numpy libopenblas0-pthread, "
             "then run this script with /usr/bin/python3")


# --------------------------------------------------------------------------
# The BLAS library behind torch's matrix products
# --------------------------------------------------------------------------
def blas_name():
    """Which BLAS the process runs: after one matrix product, the shared
    objects mapped into this process tell. Debian installs every BLAS as an
    alternative for libblas.so.3 in its own folder (openblas-pthread/,
    blis-openmp/, atlas/, blas/ for netlib); a torch with a bundled BLAS maps
    libopenblas or libmkl directly."""
    a = torch.rand(32, 32)
    float((a @ a).sum())
    try:
        with open("/proc/self/maps", encoding="utf8") as maps:
            mapped = {line.split()[-1] for line in maps if "/" in line}
    except OSError:
        return "unknown"
    known = ("openblas", "mkl", "blis", "atlas")
    resolved = [os.path.realpath(p) for p in mapped if "libblas.so" in os.path.basename(p)]
    for path in sorted(resolved):
        folder = os.path.basename(os.path.dirname(path))
        for name in known:
            if name in folder or name in os.path.basename(path):
                return name
        return "netlib"
    for name in known:
        if any(name in os.path.basename(p) for p in mapped):
            return name
    return "unknown"


# --------------------------------------------------------------------------
# LML as the reference computes it: bracketing search for nu, then an
# analytic backward pass.
# --------------------------------------------------------------------------
LML_POINTS = 10  # points per bracketing round (the reference's CPU setting)
SATURATED = 1.0 - 1e-5  # the reference's output when k >= n


class LmlFunction(torch.autograd.Function):
    """y = sigmoid(x + nu), nu the root of sum(sigmoid(x + nu)) = k per row.

    nu starts in [-x_(k) - 7, -x_(k+1) + 7] (x_(j) the j-th largest entry of
    the row); each round evaluates the residual at LML_POINTS evenly spaced
    points of the bracket, end points included, and keeps the interval
    between the last point with a negative residual and the next one. Rows
    stop once their bracket is no wider than eps; nu is then its midpoint.
    Only the rows still searching are evaluated in a round.
    Backward: with s = y (1 - y), dx = s * (g - <s, g> / sum(s)).
    """

    @staticmethod
    def forward(ctx, x, k, eps, n_iter):
        batch, n = x.shape
        if k >= n:
            ctx.degenerate = True
            return torch.full_like(x, SATURATED)
        ctx.degenerate = False
        top = torch.topk(x, k + 1, dim=1).values
        low = -top[:, k - 1] - 7.0
        high = -top[:, k] + 7.0
        steps = torch.linspace(0.0, 1.0, LML_POINTS, dtype=x.dtype)
        rows = torch.arange(batch)
        for _ in range(n_iter):
            active = rows[(high - low) > eps]
            if active.numel() == 0:
                break
            lo, hi = low[active], high[active]
            grid = lo.unsqueeze(1) + (hi - lo).unsqueeze(1) * steps  # (A, P)
            residual = torch.sigmoid(x[active].unsqueeze(1) + grid.unsqueeze(2)).sum(2) - k
            below = (residual < 0).sum(1) - 1  # index of the last negative point
            below = below.clamp(0, LML_POINTS - 2)
            low[active] = grid.gather(1, below.unsqueeze(1)).squeeze(1)
            high[active] = grid.gather(1, (below + 1).unsqueeze(1)).squeeze(1)
        nu = (low + high) / 2
        y = torch.sigmoid(x + nu.unsqueeze(1))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        if ctx.degenerate:
            return torch.zeros_like(grad), None, None, None
        (y,) = ctx.saved_tensors
        s = y * (1 - y)
        total = s.sum(1, keepdim=True)
        # A row whose entries all saturate has s = 0 everywhere: zero gradient.
        mean = (s * grad).sum(1, keepdim=True) / torch.where(total > 0, total, torch.ones_like(total))
        return s * (grad - mean), None, None, None


def lml(x, k, eps=1e-4, n_iter=100):
    """LML_k(x) over the last axis of a (batch, n) tensor."""
    return LmlFunction.apply(x, k, eps, n_iter)


# --------------------------------------------------------------------------
# DCEM with the reference's update rules
# --------------------------------------------------------------------------
def dcem(f, nx, n_batch, n_sample, n_elite, n_iter, temp=1.0, init_sigma=1.0,
         lb=None, ub=None, normalize=True, iter_eps=1e-4, lml_eps=1e-3):
    """Returns (mu, iterations run). Per iteration: samples mu + sigma * e,
    e ~ N(0, 1) drawn as (n_sample, n_batch, nx) and moved to
    (n_batch, n_sample, nx), clamped to [lb, ub]; scores f, standardised per
    row with the unbiased std (+1e-6 on the std); weights
    LML_{n_elite}(-v * temp) (softmax for one elite); mu' = sum(w X) / n_elite;
    stop when ||mu' - mu|| < iter_eps over the whole batch (sigma then keeps
    its value); sigma' = sqrt(sum(w (X - mu')^2) / n_elite). The result is mu
    clamped to [lb, ub]."""
    dtype = torch.get_default_dtype()
    mu = torch.zeros(n_batch, nx, dtype=dtype)
    sigma = torch.full((n_batch, nx), float(init_sigma), dtype=dtype)
    done = 0
    for _ in range(n_iter):
        done += 1
        noise = torch.randn(n_sample, n_batch, nx, dtype=dtype)
        samples = (mu + noise * sigma).transpose(0, 1).contiguous()
        if lb is not None or ub is not None:
            samples = samples.clamp(lb, ub)
        values = f(samples).view(n_batch, n_sample)
        if normalize:
            values = (values - values.mean(1, keepdim=True)) / (values.std(1, keepdim=True) + 1e-6)
        scores = -values * temp
        if n_elite == 1:
            weights = torch.softmax(scores, dim=1)
        else:
            weights = lml(scores, n_elite, eps=lml_eps)
        weights = weights.unsqueeze(2)
        previous = mu
        mu = (weights * samples).sum(1) / n_elite
        if float((mu - previous).norm()) < iter_eps:
            break
        sigma = ((weights * (samples - mu.unsqueeze(1)) ** 2).sum(1) / n_elite).sqrt()
    if lb is not None or ub is not None:
        mu = mu.clamp(lb, ub)
    return mu, done


# --------------------------------------------------------------------------
# Objectives of the DCEM configurations
# --------------------------------------------------------------------------
def mlp(sizes, activation):
    """Linear layers of the given widths with `activation` between them,
    created in order (so a fixed seed gives fixed weights)."""
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        if i > 0:
            layers.append(activation())
        layers.append(nn.Linear(fan_in, fan_out))
    return nn.Sequential(*layers)


# Cart-pole of the DCEM embedding experiment (mpc.pytorch's CartpoleDx values).
GRAVITY, CART_MASS, POLE_MASS, POLE_LENGTH = 9.8, 1.0, 0.1, 0.5
FORCE_LIMIT, DT, HORIZON = 100.0, 0.05, 20


def cartpole_cost(start, forces):
    """-(sum over t < T of r(x_t, u_t)), r = cos th - 0.1 p^2 - 1e-5 u^2, with
    explicit Euler steps; start: (N, 5) = (p, p', cos th, sin th, th');
    forces: (T, N, 1)."""
    state = start
    total = 0.0
    mass = CART_MASS + POLE_MASS
    for t in range(forces.shape[0]):
        u = forces[t]
        p, v, c, s, w = state.unbind(1)
        total = total + (c - 0.1 * p ** 2 - 1e-5 * (u ** 2).sum(1))
        force = u[:, 0].clamp(-FORCE_LIMIT, FORCE_LIMIT)
        theta = torch.atan2(s, c)
        a = (force + POLE_MASS * POLE_LENGTH * w ** 2 * s) / mass
        theta_acc = (GRAVITY * s - c * a) / (
            POLE_LENGTH * (4.0 / 3.0 - POLE_MASS * c ** 2 / mass))
        p_acc = a - POLE_MASS * POLE_LENGTH * theta_acc * c / mass
        theta_next = theta + DT * w
        state = torch.stack((p + DT * v, v + DT * p_acc, torch.cos(theta_next),
                             torch.sin(theta_next), w + DT * theta_acc), 1)
    return -total


# --------------------------------------------------------------------------
# Configurations: build(dtype) -> (params, loss() -> (scalar, iterations), info)
# --------------------------------------------------------------------------
def build_lml(shape, k):
    def build(dtype):
        gen = torch.Generator().manual_seed(0)
        x = torch.randn(*shape, generator=gen, dtype=dtype).requires_grad_()
        w = torch.randn(*shape, generator=gen, dtype=dtype)
        return [x], lambda: ((lml(x, k, eps=1e-4, n_iter=100) * w).sum(), None), {
            "shape": list(shape), "k": k, "eps": 1e-4}
    return build


def build_quadratic(dtype):
    batch, nx = 64, 32
    gen = torch.Generator().manual_seed(0)
    q = torch.rand(batch, nx, generator=gen, dtype=dtype) + 0.5
    p = torch.randn(batch, nx, generator=gen, dtype=dtype).requires_grad_()
    w = torch.randn(batch, nx, generator=gen, dtype=dtype)

    def objective(x):  # (B, S, nx) -> (B, S)
        return (0.5 * q.unsqueeze(1) * x ** 2 + p.unsqueeze(1) * x).sum(-1)

    def loss():
        mu, its = dcem(objective, nx, batch, 100, 10, 10, init_sigma=1.0)
        return (w * mu).sum(), its
    return [p], loss, {"n_batch": batch, "nx": nx, "n_sample": 100, "n_elite": 10,
                       "n_iter": 10}


def build_regression(dtype):
    torch.manual_seed(0)
    energy = mlp((2, 128, 128, 128, 1), nn.Softplus).to(dtype)
    x = torch.linspace(0.0, 2.0 * math.pi, 100, dtype=dtype).unsqueeze(1)
    target = (x * torch.sin(x)).squeeze(1)

    def objective(y):  # (100, S, 1) -> (100, S)
        xs = x.unsqueeze(1).expand(-1, y.shape[1], -1)
        pairs = torch.cat((xs.reshape(-1, 1), y.reshape(-1, 1)), dim=-1)
        return energy(pairs).view(y.shape[0], y.shape[1])

    def loss():
        yhat, its = dcem(objective, 1, 100, 100, 10, 10, init_sigma=7.0)
        return nn.functional.mse_loss(yhat.squeeze(1), target), its
    return list(energy.parameters()), loss, {"n_batch": 100, "nx": 1, "n_sample": 100,
                                             "n_elite": 10, "n_iter": 10,
                                             "init_sigma": 7.0}


def build_cartpole(dtype):
    torch.manual_seed(0)
    decoder = mlp((2, 256, 256, 256, HORIZON), nn.ELU)
    with torch.no_grad():
        for layer in decoder:
            if isinstance(layer, nn.Linear):
                fan_out, fan_in = layer.weight.shape
                layer.weight.normal_(0.0, 2.0 / math.sqrt(fan_in + fan_out))
                layer.bias.zero_()
    decoder = decoder.to(dtype)
    gen = torch.Generator().manual_seed(1)
    u = torch.rand(4, generator=gen, dtype=dtype)
    theta = (2 * u[2] - 1) * math.pi
    start = torch.stack((u[0] - 0.5, u[1] - 0.5, torch.cos(theta), torch.sin(theta),
                         2 * u[3] - 1)).unsqueeze(0)

    def objective(z):  # (1, S, 2) or (1, 2) -> cost per latent
        flat = z.reshape(-1, 2)
        forces = 2 * FORCE_LIMIT * torch.sigmoid(decoder(flat)) - FORCE_LIMIT  # (N, T)
        return cartpole_cost(start.expand(flat.shape[0], -1), forces.t().unsqueeze(2))

    def loss():
        z, its = dcem(objective, 2, 1, 100, 10, 10, init_sigma=0.5, lb=-1.0, ub=1.0)
        return objective(z).sum(), its
    return list(decoder.parameters()), loss, {"horizon": HORIZON, "latent": 2,
                                              "n_sample": 100, "n_elite": 10,
                                              "n_iter": 10}


BUILDERS = {
    "lml_small": build_lml((64, 100), 10),
    "lml_large": build_lml((256, 1000), 100),
    "dcem_quadratic": build_quadratic,
    "dcem_regression": build_regression,
    "dcem_cartpole_embed": build_cartpole,
}


# --------------------------------------------------------------------------
# PlaNet's recurrent state-space model (the twin of @dcem/tasks/planet)
# --------------------------------------------------------------------------
# Sizes: PlaNet's (deterministic 200, stochastic 30, hidden 200, min std
# 0.1) on cheetah-run's proprioceptive observations (17) and actions (6).
PLANET = {"observation": 17, "action": 6, "deterministic": 200, "stochastic": 30,
          "hidden": 200, "min_std": 0.1, "free_nats": 3.0, "clip": 1000.0,
          "batch": 50, "length": 50, "candidates": 1000, "horizon": 12}


class Rssm(nn.Module):
    """encoder o -> relu 200 -> relu 200; transition input relu(W [s, a]);
    h' = GRUCell(x, h) (gates r, z, n; n = tanh(x W_n + b_n + r (h U_n + c_n)));
    prior relu(W h') -> [mu, rho], posterior relu(W [h', e]) -> [mu, rho],
    std = softplus(rho) + min_std; decoders [h, s] -> relu 200 -> relu 200
    -> observation (linear) or reward (1, linear)."""

    def __init__(self, o, a, d, s, hidden, min_std):
        super().__init__()
        self.min_std = min_std
        self.s = s
        self.encoder = nn.Sequential(nn.Linear(o, hidden), nn.ReLU(),
                                     nn.Linear(hidden, hidden), nn.ReLU())
        self.transition_in = nn.Linear(s + a, hidden)
        self.gru = nn.GRUCell(hidden, d)
        self.prior_hidden = nn.Linear(d, hidden)
        self.prior_out = nn.Linear(hidden, 2 * s)
        self.posterior_hidden = nn.Linear(d + hidden, hidden)
        self.posterior_out = nn.Linear(hidden, 2 * s)
        self.observation = nn.Sequential(nn.Linear(d + s, hidden), nn.ReLU(),
                                         nn.Linear(hidden, hidden), nn.ReLU(),
                                         nn.Linear(hidden, o))
        self.reward = nn.Sequential(nn.Linear(d + s, hidden), nn.ReLU(),
                                    nn.Linear(hidden, hidden), nn.ReLU(),
                                    nn.Linear(hidden, 1))

    def gaussian(self, out):
        mean, rho = out.split(self.s, dim=-1)
        return mean, nn.functional.softplus(rho) + self.min_std

    def deterministic(self, h, s, a):
        x = torch.relu(self.transition_in(torch.cat((s, a), -1)))
        return self.gru(x, h)

    def prior(self, h):
        return self.gaussian(self.prior_out(torch.relu(self.prior_hidden(h))))

    def posterior(self, h, e):
        return self.gaussian(self.posterior_out(torch.relu(self.posterior_hidden(torch.cat((h, e), -1)))))


def kl_diag(mq, sq, mp, sp):
    """KL(q || p) of diagonal Gaussians, summed over the last axis."""
    return (torch.log(sp / sq) + (sq ** 2 + (mq - mp) ** 2) / (2 * sp ** 2) - 0.5).sum(-1)


def build_planet_update(dtype):
    c = PLANET
    torch.manual_seed(0)
    model = Rssm(c["observation"], c["action"], c["deterministic"], c["stochastic"],
                 c["hidden"], c["min_std"]).to(dtype)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-4, betas=(0.9, 0.999))
    b, length = c["batch"], c["length"]
    gen = torch.Generator().manual_seed(1)
    observations = torch.randn(b, length, c["observation"], generator=gen, dtype=dtype)
    actions = torch.rand(b, length, c["action"], generator=gen, dtype=dtype) * 2 - 1
    rewards = torch.rand(b, length, generator=gen, dtype=dtype)
    params = list(model.parameters())

    def elbo():
        """Posterior filtering over the sequence from h = 0, s = 0, then the
        ELBO: mean over (B, L) of 1/2 |o - o^|^2 + 1/2 (r - r^)^2 +
        max(free nats, KL(q || p))."""
        embedded = model.encoder(observations.reshape(b * length, -1)).reshape(b, length, -1)
        noise = torch.randn(length, b, c["stochastic"], dtype=dtype)
        h = torch.zeros(b, c["deterministic"], dtype=dtype)
        s = torch.zeros(b, c["stochastic"], dtype=dtype)
        hs, ss, means, stds = [], [], [], []
        for t in range(length):
            h = model.deterministic(h, s, actions[:, t])
            mq, sq = model.posterior(h, embedded[:, t])
            s = mq + sq * noise[t]
            hs.append(h)
            ss.append(s)
            means.append(mq)
            stds.append(sq)
        # The prior, the decoders and the KL batched over every (b, t), as ours.
        flat = lambda xs: torch.stack(xs, 1).reshape(b * length, -1)
        h_all, s_all = flat(hs), flat(ss)
        mp, sp = model.prior(h_all)
        kl = kl_diag(flat(means), flat(stds), mp, sp)
        features = torch.cat((h_all, s_all), -1)
        obs_loss = 0.5 * ((model.observation(features) - observations.reshape(b * length, -1)) ** 2).sum(-1)
        reward_loss = 0.5 * (model.reward(features).squeeze(1) - rewards.reshape(b * length)) ** 2
        return (obs_loss + reward_loss + torch.clamp(kl, min=c["free_nats"])).mean()

    def update():
        """One training update: the ELBO, its gradient, the global-norm
        clip at 1000 and an Adam step."""
        optimizer.zero_grad(set_to_none=True)
        loss = elbo()
        loss.backward()
        norm = float(nn.utils.clip_grad_norm_(params, c["clip"]))
        optimizer.step()
        return loss, norm

    info = {k: c[k] for k in ("observation", "action", "deterministic", "stochastic", "hidden",
                              "free_nats", "batch", "length")}
    return {"forward": elbo, "step": update, "info": info}


def build_planet_imagine(dtype):
    c = PLANET
    torch.manual_seed(0)
    model = Rssm(c["observation"], c["action"], c["deterministic"], c["stochastic"],
                 c["hidden"], c["min_std"]).to(dtype)
    n, horizon = c["candidates"], c["horizon"]
    gen = torch.Generator().manual_seed(1)
    h0 = torch.randn(1, c["deterministic"], generator=gen, dtype=dtype)
    s0 = torch.randn(1, c["stochastic"], generator=gen, dtype=dtype)
    actions = torch.rand(n, horizon, c["action"], generator=gen, dtype=dtype) * 2 - 1
    noise = torch.randn(horizon, n, c["stochastic"], generator=gen, dtype=dtype)

    def imagine():
        """One planner iteration: the prior from one start state for every
        candidate's action sequence; the sum of predicted rewards."""
        with torch.no_grad():
            h = h0.expand(n, -1)
            s = s0.expand(n, -1)
            hs, ss = [], []
            for t in range(horizon):
                h = model.deterministic(h, s, actions[:, t])
                mean, std = model.prior(h)
                s = mean + std * noise[t]
                hs.append(h)
                ss.append(s)
            # The reward model batched over every (t, candidate), as ours.
            rewards = model.reward(torch.cat((torch.cat(hs, 0), torch.cat(ss, 0)), -1))
            return rewards.reshape(horizon, n).sum(0).sum()

    info = {k: c[k] for k in ("observation", "action", "deterministic", "stochastic", "hidden",
                              "candidates", "horizon")}
    return {"forward": imagine, "step": None, "info": info}


PLANET_BUILDERS = {"planet_imagine": build_planet_imagine, "planet_update": build_planet_update}


def measure_planet(name, dtype, repeats, warmup, blas):
    """fwd_ms: planet_imagine's imagination (no autograd) or planet_update's
    ELBO (autograd recording); fwd_bwd_ms: planet_update's whole update
    (none for planet_imagine, which is forward only)."""
    built = PLANET_BUILDERS[name](dtype)
    forward, step = built["forward"], built["step"]
    for _ in range(warmup):
        (step or forward)()
    torch.manual_seed(0)
    if step is None:
        value, grad_norm = forward(), None
    else:
        value, grad_norm = step()
    fwd, fwd_bwd = [], []
    for _ in range(repeats):
        torch.manual_seed(0)
        fwd.append(milliseconds(lambda: float(forward())))
        if step is not None:
            torch.manual_seed(0)
            fwd_bwd.append(milliseconds(step))
    return {
        "config": name, "impl": "torch",
        "fwd_ms": round(statistics.median(fwd), 3),
        "fwd_bwd_ms": round(statistics.median(fwd_bwd), 3) if fwd_bwd else None,
        "fwd_ms_min": round(min(fwd), 3),
        "fwd_bwd_ms_min": round(min(fwd_bwd), 3) if fwd_bwd else None,
        "repeats": repeats, "warmup": warmup, "dtype": str(dtype).replace("torch.", ""),
        "threads": torch.get_num_threads(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "default"),
        "malloc": ARGS.malloc,
        "blas": blas, "torch": torch.__version__,
        "loss": float(value.detach()), "grad_norm": grad_norm,
        "info": built["info"],
    }


# --------------------------------------------------------------------------
def milliseconds(fn):
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1e3


def measure(name, dtype, repeats, warmup, blas):
    params, loss, info = BUILDERS[name](dtype)

    def forward():
        torch.manual_seed(0)
        return loss()

    def forward_backward():
        for p in params:
            p.grad = None
        value, its = forward()
        value.backward()
        return value, its

    for _ in range(warmup):
        forward_backward()
    value, iterations = forward_backward()
    grad_norm = math.sqrt(sum(float((p.grad ** 2).sum()) for p in params if p.grad is not None))
    fwd, fwd_bwd = [], []
    for _ in range(repeats):
        fwd.append(milliseconds(forward))
        fwd_bwd.append(milliseconds(forward_backward))
    row = {
        "config": name, "impl": "torch",
        "fwd_ms": round(statistics.median(fwd), 3),
        "fwd_bwd_ms": round(statistics.median(fwd_bwd), 3),
        "fwd_ms_min": round(min(fwd), 3), "fwd_bwd_ms_min": round(min(fwd_bwd), 3),
        "repeats": repeats, "warmup": warmup, "dtype": str(dtype).replace("torch.", ""),
        "threads": torch.get_num_threads(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "default"),
        "malloc": ARGS.malloc,
        "blas": blas, "torch": torch.__version__,
        "loss": float(value.detach()), "grad_norm": grad_norm,
    }
    if iterations is not None:
        row["iterations"] = iterations
    row["info"] = info
    return row


def main():
    blas = blas_name()
    if blas == "netlib" and not ARGS.allow_netlib:
        sys.exit("torch_compare.py: torch's matrix products run on the netlib reference BLAS, "
                 "about 10x slower than any optimised BLAS, so the comparison would not be one "
                 "with PyTorch; install OpenBLAS (apt-get install -y libopenblas0-pthread) or "
                 "pass --allow-netlib")
    torch.set_num_threads(ARGS.threads)
    dtype = getattr(torch, ARGS.dtype)
    torch.set_default_dtype(dtype)
    for name in ARGS.configs:
        run = measure_planet if name in PLANET_BUILDERS else measure
        print(json.dumps(run(name, dtype, ARGS.repeats, ARGS.warmup, blas)), flush=True)


if __name__ == "__main__":
    main()
