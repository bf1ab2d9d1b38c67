#!/bin/bash
#SBATCH --job-name=llama-ft        # job name
#SBATCH --account=nlp
#SBATCH --partition=a100
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=8
#SBATCH --cpus-per-task=12
#SBATCH --gres=gpu:a100:8
#SBATCH --mem=480G
#SBATCH --time=2-00:00:00
#SBATCH --output=logs/%x-%j.out
#SBATCH --error=logs/%x-%j.err
#SBATCH --mail-type=END,FAIL
#SBATCH --requeue
#SBATCH --exclusive

module load cuda/12.1
srun python train.py --config cfg.yaml
#SBATCH -N 4
