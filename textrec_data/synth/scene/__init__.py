"""The scene mode of ``textrec synth``: ICDAR 2015-format scenes (JPEG images and GT files), the
embedded default dataset. See :mod:`textrec_data.synth` for the public names.

Every scene is a textured, photo-like background (gradients, blurred-noise texture, wall panels,
soft blobs, poles) with a few non-overlapping words. Each word is rendered upright with PIL on its
own canvas (optionally on a sign plate, with an outline or a drop shadow), warped into the scene
with a rotation and a mild perspective (``cv2.warpPerspective``), and annotated with the warped
corners of its text box: clockwise from the word's own top-left corner, like IC15.

Image K is drawn from ``np.random.default_rng([seed, K])``, so any image can be regenerated alone
and the same config gives byte-identical GT files and identical images (for the same fonts and
library versions).
"""
