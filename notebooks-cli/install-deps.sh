#!/usr/bin/env bash
# Installs the system libraries tianalyze links against (OpenBLAS, LAPACKE, OpenMPI) and gnuplot without X11.
# With --gemm-backends also BLIS and oneDNN, which only notebooks-cli/gemm-bench.sh loads (docs/gemm-backends.md).
# Idempotent: returns at once when everything is present.
set -euo pipefail
need=()
dpkg -s libopenblas-dev >/dev/null 2>&1 || need+=(libopenblas-dev)
dpkg -s liblapacke-dev  >/dev/null 2>&1 || need+=(liblapacke-dev)
# OpenMPI: the ranks of `mpirun`/`srun` runs (docs/distributed.md); mpirun also runs the MPI tests.
dpkg -s libopenmpi-dev  >/dev/null 2>&1 || need+=(libopenmpi-dev)
command -v mpirun       >/dev/null 2>&1 || need+=(openmpi-bin)
command -v gnuplot      >/dev/null 2>&1 || need+=(gnuplot-nox)
if [ "${1:-}" = "--gemm-backends" ]; then
  dpkg -s libblis-dev >/dev/null 2>&1 || need+=(libblis-dev)
  dpkg -s libdnnl-dev >/dev/null 2>&1 || need+=(libdnnl-dev)
fi
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
echo "install-deps: installing ${need[*]}" >&2
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
