"""Learning from confirmed cases: labels, feature frames, positive-unlabelled models, honest
cross-validation and model folders (``antifraud train``, ``antifraud detect --model``)."""
