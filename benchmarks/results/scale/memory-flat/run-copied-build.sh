#!/bin/bash
# run.sh DIR args... : the CLI from a copied build DIR (distill4j-cli.jar + lib/)
d=$1; shift
export DJL_OFFLINE=true OPT_OUT_TRACKING=true OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE DJL_CACHE_DIR=/work/.djl-cache
exec java ${JOPTS:--Xmx4g} --add-opens=java.base/java.nio=ALL-UNNAMED -Dai.djl.offline=true -Ddistill4j.home=/work/main -cp "$d/distill4j-cli.jar:$d/lib/*" io.distill4j.cli.Main "$@"
