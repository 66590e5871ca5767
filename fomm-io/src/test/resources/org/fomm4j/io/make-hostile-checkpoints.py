# Writes the crafted checkpoints HostileCheckpointTest reads (run with a Python that has torch):
#   stride0.pth.tar - {'generator': {'w': torch.zeros(1).expand(20000, 20000)}}: 4e8 elements declared
#                     over a 1-element storage (zero strides), a few hundred bytes on disk.
import collections
import os
import torch

here = os.path.dirname(os.path.abspath(__file__))
torch.save({'generator': collections.OrderedDict(w=torch.zeros(1).expand(20000, 20000))},
           os.path.join(here, 'stride0.pth.tar'))
