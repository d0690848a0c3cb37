from torch import nn
from torchvision.models.detection import FasterRCNN
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.ops import MultiScaleRoIAlign


class TinyDetector(FasterRCNN):
    """An eager-mode Faster R-CNN small enough for a test: one strided convolution as backbone
    (8 channels), one anchor size, 3 classes (background and two)."""

    def __init__(self):
        backbone = nn.Sequential(nn.Conv2d(3, 8, kernel_size=3, stride=4, padding=1), nn.ReLU())
        backbone.out_channels = 8
        super().__init__(
            backbone,
            num_classes=None,
            min_size=64,
            max_size=128,
            rpn_anchor_generator=AnchorGenerator(sizes=((32,),), aspect_ratios=((1.0,),)),
            box_roi_pool=MultiScaleRoIAlign(featmap_names=["0"], output_size=4, sampling_ratio=1),
            box_head=TwoMLPHead(8 * 4 * 4, 16),
            box_predictor=FastRCNNPredictor(16, 3),
            rpn_pre_nms_top_n_test=20,
            rpn_post_nms_top_n_test=10,
            box_detections_per_img=5,
        )
