#!/usr/bin/env python3
"""Load a fomm4j weight file (e.g. a model from `fomm train`) into the reference PyTorch code and animate.

The weight file is in the safetensors layout, keyed as the official checkpoints' state dicts (FOMM:
`kp_detector.*`, `generator.*`; TPSMM: `kp_detector.*`, `dense_motion_network.*`, `inpainting_network.*`,
`avd_network.*`, `bg_predictor.*`), so every network loads with `load_state_dict(strict=True)`. This script
needs only PyTorch, NumPy, PyYAML and Pillow (no `safetensors` package) and a checkout of the reference:
AliaksandrSiarohin/first-order-model (its `modules/` and `sync_batchnorm/`) for a FOMM, or
yoyo-nb/Thin-Plate-Spline-Motion-Model (its `modules/`; torchvision too) for a TPSMM.

    python3 scripts/load-in-pytorch.py --reference ~/first-order-model --model weights/fomm-creatures-64.fomm4j \
        --source source.png --driving-frames driving/ --output prediction.npy

It writes the predictions of mode `standard` (driving keypoints as detected, as `reconstruction.py` does;
a TPSMM with its background predictor when it has one) as float32 [T, 3, H, W]; compare with
`fomm animate --mode standard --raw-output ours.npy` (a TPSMM: add `--background-motion`).
"""
import argparse
import json
import os
import struct
import sys

import numpy as np
import torch
import yaml
from PIL import Image


def read_weights(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop('__metadata__', {})
    tensors = {}
    for name, e in header.items():
        if name.startswith('__pad__.') or name.startswith('optimizer.'):
            continue
        a, b = e['data_offsets']
        dtype = {'F32': np.float32, 'F16': np.float16, 'I64': np.int64}[e['dtype']]
        v = np.frombuffer(data[a:b], dtype=dtype).reshape(e['shape'])
        # float16 weights (fomm compact) are widened as fomm4j widens them: the model computes in float32.
        tensors[name] = torch.from_numpy(v.astype(np.float32) if dtype == np.float16 else v.copy())
    return meta, tensors


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--reference', required=True, help='checkout of first-order-model')
    p.add_argument('--model', required=True)
    p.add_argument('--source', required=True)
    p.add_argument('--driving-frames', required=True, help='folder of PNG frames')
    p.add_argument('--output', required=True)
    a = p.parse_args()
    sys.path.insert(0, a.reference)
    meta, tensors = read_weights(a.model)
    config = yaml.safe_load(meta['config'])
    mp = config['model_params']
    tpsmm = 'num_tps' in mp['common_params']
    if tpsmm:
        from modules.keypoint_detector import KPDetector
        from modules.dense_motion import DenseMotionNetwork
        from modules.inpainting_network import InpaintingNetwork
        from modules.avd_network import AVDNetwork
        from modules.bg_motion_predictor import BGMotionPredictor
        common = mp['common_params']
        networks = {'kp_detector': KPDetector(**common),
                    'dense_motion_network': DenseMotionNetwork(**mp['dense_motion_params'], **common),
                    'inpainting_network': InpaintingNetwork(**mp['generator_params'], **common),
                    'avd_network': AVDNetwork(num_tps=common['num_tps'], **mp['avd_network_params'])}
        if common.get('bg'):
            networks['bg_predictor'] = BGMotionPredictor()
    else:
        from modules.generator import OcclusionAwareGenerator
        from modules.keypoint_detector import KPDetector
        networks = {'kp_detector': KPDetector(**mp['kp_detector_params'], **mp['common_params']),
                    'generator': OcclusionAwareGenerator(**mp['generator_params'], **mp['common_params'])}
    for net, module in networks.items():
        sd = {k[len(net) + 1:]: v for k, v in tensors.items() if k.startswith(net + '.')}
        module.load_state_dict(sd, strict=True)
        module.eval()
    h, w = config['dataset_params']['frame_shape'][:2]

    def load(path):
        img = Image.open(path).convert('RGB')
        if img.size != (w, h):
            raise SystemExit(f'{path} is {img.size[0]}x{img.size[1]}, the model wants {w}x{h}')
        return torch.from_numpy(np.asarray(img, dtype=np.float32) / 255).permute(2, 0, 1)[None]

    source = load(a.source)
    frames = sorted(f for f in os.listdir(a.driving_frames) if f.endswith('.png'))
    out = []
    kp_detector = networks['kp_detector']
    with torch.no_grad():
        kp_source = kp_detector(source)
        for f in frames:
            driving = load(os.path.join(a.driving_frames, f))
            kp_driving = kp_detector(driving)
            if tpsmm:  # as TPSMM's reconstruction.py
                bg = networks['bg_predictor'](source, driving) if 'bg_predictor' in networks else None
                dense = networks['dense_motion_network'](source_image=source, kp_driving=kp_driving, kp_source=kp_source,
                                                         bg_param=bg, dropout_flag=False)
                prediction = networks['inpainting_network'](source, dense)['prediction']
            else:
                prediction = networks['generator'](source, kp_source=kp_source, kp_driving=kp_driving)['prediction']
            out.append(prediction[0].numpy())
    np.save(a.output, np.stack(out).astype(np.float32))
    print(f'wrote {a.output}: {len(out)} frames')


if __name__ == '__main__':
    main()
