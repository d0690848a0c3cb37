#!/usr/bin/env bash
# Makes the example models and archives them into model_store/ with ember-archiver.
# Needs python3-torch and python3-torchvision (make deps-examples) and a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
archiver=${ARCHIVER:-.build/release/ember-archiver}

# The models are generated once; delete them to regenerate.
if [[ ! -f examples/mlp/mlp.pt || ! -f examples/resnet18/resnet18.pt ]]; then
    /usr/bin/python3 examples/make_models.py
fi

# The MLP: Ember's own declarative handler spec.
"$archiver" --model-name mlp --version 1.0 \
    --serialized-file examples/mlp/mlp.pt \
    --handler examples/mlp/mlp-handler.yaml \
    --config-file examples/mlp/model-config.yaml \
    --export-path model_store --force

# ResNet-18: TorchServe's builtin image_classifier, exactly as torch-model-archiver would be called.
"$archiver" --model-name resnet18 --version 1.0 \
    --serialized-file examples/resnet18/resnet18.pt \
    --handler image_classifier \
    --extra-files examples/resnet18/index_to_name.json \
    --config-file examples/resnet18/model-config.yaml \
    --export-path model_store --force
ls -l model_store
