#!/bin/sh
# Zhisuan and Slurm directives, quoting, short forms
#SBATCH -J "my job" -N2 -t 90 -c4
#ZS --accel 'Ascend 910B3:16' --retries=2
#SBATCH --export=ALL,OMP_NUM_THREADS=4,HOME
#SBATCH --dependency=afterok:12:13,afterok:14 -d afterok:15
#ZS --priority=-5 --mem-per-gpu=32G # trailing comment
#SBATCH -HQ -vv --nice=5 -w node[1-4]

python run.py
