#!/usr/bin/env bash
# The small H.264 files UnsupportedVideoTest reads, cut from the repository's driving video with ffmpeg
# (libx264): one frame; 10 frames in 4:4:4 (High 4:4:4 Predictive); 10 frames interlaced (MBAFF).
set -euo pipefail
cd "$(dirname "$0")"
src=../../../../../../../../testdata/media/driving.mp4
ffmpeg -v error -y -i "$src" -frames:v 1 -an -c:v libx264 one-frame.mp4
ffmpeg -v error -y -i "$src" -frames:v 10 -an -c:v libx264 -pix_fmt yuv444p yuv444.mp4
ffmpeg -v error -y -i "$src" -frames:v 10 -an -c:v libx264 -flags +ildct+ilme -x264opts interlaced=1 interlaced.mp4
