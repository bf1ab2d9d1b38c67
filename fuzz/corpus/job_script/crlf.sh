#!/bin/bash
#SBATCH -J crlf
#SBATCH --gres=npu:8 -N 2
echo
