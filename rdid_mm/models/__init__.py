"""RDID-GAN's networks, losses and model; importing this registers them.

mmagic's models are imported first (they are the parents of rdid_mm's registries and the bases of
its modules), then mmagic's ``generation_init_weights`` is replaced (open-mmlab/mmagic#2109).
"""
import mmagic.models  # noqa: F401  (registers mmagic's models)

from rdid_mm.utils.compat import patch_mmagic_init_weights

patch_mmagic_init_weights()

from .baselines import CycleGANBaseline, Pix2PixBaseline  # noqa: E402
from .discriminators import AttnPatchDiscriminator  # noqa: E402
from .face_paste import paste_face_regions  # noqa: E402
from .generators import RDIDResnetGenerator, ResidualBlockWithAttention  # noqa: E402
from .layers import CBAM, ConvModuleWithAttention  # noqa: E402
from .losses import CycleLoss, DistLoss, IdentityLoss  # noqa: E402
from .rdid_gan import RDIDGAN  # noqa: E402
from .restorers import NotARestorerError, RestoreMixin, as_restorer  # noqa: E402

__all__ = [
    'AttnPatchDiscriminator', 'CBAM', 'ConvModuleWithAttention', 'CycleGANBaseline', 'CycleLoss',
    'DistLoss', 'IdentityLoss', 'NotARestorerError', 'Pix2PixBaseline', 'RDIDGAN',
    'RDIDResnetGenerator', 'ResidualBlockWithAttention', 'RestoreMixin', 'as_restorer',
    'paste_face_regions'
]
