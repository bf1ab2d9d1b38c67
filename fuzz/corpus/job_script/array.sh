#!/bin/bash
#SBATCH --array=0-15:4,20,30-33%2
#SBATCH -a 1,3,5-7
#SBATCH -n 8 --gpus-per-task=1 --mem-per-cpu=2G
#SBATCH -t 1-12:30 --no-requeue -p debug -D /scratch/x -o out.txt -e err.txt
echo "$SLURM_ARRAY_TASK_ID"
