#!/usr/bin/env bash
# Zoo networks against the reference network, at reduced input sizes where
# full size would make the suite slow. make test: every network and every
# option once (batch 2, ratio, Paddle naming with a bias on every conv,
# --simd 8 and 16, those also built with -fopenmp on two threads, bit for
# bit as on one); --full (make test-full) adds batch 1 of each, the full
# sizes and the Paddle article's network. Roughly the largest first, so that
# the last cases are short ones.
# usage: tests/zoo.sh [--full]
set -u
here=$(dirname "$0")
work=$(mktemp -d "${TMPDIR:-/tmp}/spgen-zoo.XXXXXX")
trap 'rm -rf "$work"' EXIT
{
if [ "${1:-}" = --full ]; then
  cat <<LIST
zoo/sp_resnet50_224_b1_simd16 $work/15 sp_resnet50 sp_resnet50 224 1 classes=1000 simd=16
zoo/sp_resnet20_cifar_b1 $work/1 sp_resnet20_cifar sp_resnet20_cifar 32 1
zoo/sp_resnet50_b1 $work/12 sp_resnet50 sp_resnet50 64 1 classes=1000
zoo/sp_resnet18_cifar_b1 $work/5 sp_resnet18_cifar sp_resnet18_cifar 32 1
zoo/sp_resnet18_paddle_article $work/11 sp_resnet18 sp_resnet18 64 1 classes=10 naming=paddle bias=all
zoo/sp_resnet18_b1 $work/9 sp_resnet18 sp_resnet18 64 1 classes=1000
zoo/sp_resnet18_96_b2_simd16 $work/14 sp_resnet18 sp_resnet18 96 2 classes=10 simd=16 threads=2
zoo/sp_vgg16_cifar_b1 $work/3 sp_vgg16_cifar sp_vgg16_cifar 32 1
zoo/resnet18_cifar_b1 $work/7 resnet18_cifar resnet18_cifar 32 1
LIST
fi
cat <<LIST
zoo/sp_resnet20_cifar_b2_r4 $work/2 sp_resnet20_cifar sp_resnet20_cifar 16 2 ratio=0.25
zoo/sp_resnet50_b2_simd8 $work/13 sp_resnet50 sp_resnet50 32 2 simd=8 threads=2
zoo/sp_resnet18_b2 $work/10 sp_resnet18 sp_resnet18 32 2
zoo/sp_vgg16_cifar_b2_paddle $work/4 sp_vgg16_cifar sp_vgg16_cifar 32 2 naming=paddle bias=all
zoo/sp_resnet18_cifar_b2_simd16 $work/6 sp_resnet18_cifar sp_resnet18_cifar 16 2 simd=16 threads=2
zoo/resnet18_cifar_b2 $work/8 resnet18_cifar resnet18_cifar 16 2
LIST
} | xargs -P "$(nproc)" -L 1 bash "$here/zoo_one.sh"
