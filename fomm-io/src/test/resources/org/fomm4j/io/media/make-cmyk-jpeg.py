# Writes cmyk.jpg (a CMYK JPEG with an Adobe APP14 marker, inverted CMYK as Photoshop stores it, made by
# Pillow) and rgb.png (the RGB image it came from, with K = 0), from the repository's source photo.
# Run with a Python that has Pillow: python3 make-cmyk-jpeg.py
import os
from PIL import Image

here = os.path.dirname(os.path.abspath(__file__))
src = os.path.join(here, '..', '..', '..', '..', '..', '..', '..', '..', 'testdata', 'media', 'source.png')
im = Image.open(src).convert('RGB').resize((96, 96))
im.save(os.path.join(here, 'rgb.png'))
im.convert('CMYK').save(os.path.join(here, 'cmyk.jpg'), quality=95)
