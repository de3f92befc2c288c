"""The training stage: float training and QAT (``fit``), the binary points ``integer: auto`` chooses
between them (``binary_points``), and the trained model on disk (``checkpoint``)."""
