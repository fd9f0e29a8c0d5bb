"""A faithful re-implementation of the seed notebook's data path and model (the baseline).

Kept only so benchmarks can compare against it side by side; the product never imports this.
Behaviour is the seed's, defects included: whole scene images resized to 32x128, 2% of ``###``
kept at random, unknown characters dropped silently, labels upper-cased and stripped of quotes.
"""

from __future__ import annotations

import random
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn as nn
from PIL import Image
from torch.utils.data import Dataset

H, W = 32, 128
KEEP_RATE_FOR_PLACEHOLDER = 0.02


class CTCTokenizer:
    """The seed's tokenizer: sorted characters, 0 = blank, unknown characters skipped."""

    def __init__(self, chars):
        chars = sorted(set(chars))
        self.blank_idx = 0
        self.idx_to_char = {0: ""}
        for i, ch in enumerate(chars, start=1):
            self.idx_to_char[i] = ch
        self.char_to_idx = {ch: i for i, ch in self.idx_to_char.items() if i != 0}
        self.vocab_size = len(self.idx_to_char)

    def encode(self, text):
        return [self.char_to_idx[ch] for ch in text if ch in self.char_to_idx]


def _seed_lines(images_dir: Path, gt_dir: Path):
    """(image path, upper-cased text) pairs exactly as the seed reads them."""
    image_files = sorted(images_dir.glob("*.jpg")) + sorted(images_dir.glob("*.png"))
    for img_path in image_files:
        gt_file = gt_dir / f"gt_{img_path.stem}.txt"
        if not gt_file.exists():
            gt_file = gt_dir / f"{img_path.stem}.txt"
        if not gt_file.exists():
            continue
        with open(gt_file, encoding="utf-8", errors="ignore") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                parts = line.split(",")
                if len(parts) >= 9:
                    text = ",".join(parts[8:]).strip().strip('"').strip("'").upper()
                    if (
                        all(ch == "#" for ch in text)
                        and random.random() > KEEP_RATE_FOR_PLACEHOLDER
                    ):
                        continue
                    yield img_path, text


def build_vocab(images_dir, gt_dir) -> list[str]:
    chars = {ch for _, text in _seed_lines(Path(images_dir), Path(gt_dir)) for ch in text}
    chars.add(" ")
    return sorted(chars)


class ICDAR_CTCDataset(Dataset):  # noqa: N801 - the seed's name
    """The seed's dataset: every sample decodes and resizes its whole scene image."""

    def __init__(self, images_dir, gt_dir, tokenizer, max_label_len=64):
        self.tokenizer = tokenizer
        self.samples = [
            (str(p), t)
            for p, t in _seed_lines(Path(images_dir), Path(gt_dir))
            if 1 <= len(t) <= max_label_len
        ]

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, idx):
        img_path, text = self.samples[idx]
        img = np.array(Image.open(img_path).convert("RGB"))
        img = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
        img = cv2.resize(img, (W, H)).astype(np.float32) / 255.0
        img = torch.from_numpy((img - 0.5) / 0.5).unsqueeze(0)
        return img, torch.tensor(self.tokenizer.encode(text), dtype=torch.long), text


def collate_fn(batch):
    imgs = torch.stack([b[0] for b in batch])
    labels = torch.cat([b[1] for b in batch]) if batch else torch.tensor([], dtype=torch.long)
    lens = torch.tensor([b[1].numel() for b in batch], dtype=torch.long)
    return imgs, labels, lens, [b[2] for b in batch]


class CRNN_CTC_Model(nn.Module):  # noqa: N801 - the seed's name
    """The seed's CRNN (~8M parameters at 32x128, grayscale)."""

    def __init__(self, vocab_size, lstm_hidden=256):
        super().__init__()

        def conv(c_in, c_out, bn=False):
            layers = [nn.Conv2d(c_in, c_out, 3, 1, 1)]
            return layers + ([nn.BatchNorm2d(c_out)] if bn else []) + [nn.ReLU(inplace=True)]

        self.features = nn.Sequential(
            *conv(1, 64), nn.MaxPool2d(2, 2),
            *conv(64, 128), nn.MaxPool2d(2, 2),
            *conv(128, 256), *conv(256, 256), nn.MaxPool2d((2, 1), (2, 1)),
            *conv(256, 512, True), *conv(512, 512, True), nn.MaxPool2d((2, 1), (2, 1)),
            nn.Conv2d(512, 512, kernel_size=(2, 1)), nn.ReLU(inplace=True),
        )  # fmt: skip
        self.lstm = nn.LSTM(512, lstm_hidden, num_layers=2, batch_first=True, bidirectional=True)
        self.classifier = nn.Linear(lstm_hidden * 2, vocab_size)

    def forward(self, images):
        feat = self.features(images).squeeze(2).permute(0, 2, 1)
        out, _ = self.lstm(feat)
        return self.classifier(out)


def seed_images(grays: list[np.ndarray]) -> torch.Tensor:
    """The seed's preprocessing of grayscale crops: resize to 32x128, scale to [-1, 1];
    ``(N, 1, 32, 128)``."""
    imgs = [cv2.resize(g, (W, H)).astype(np.float32) / 255.0 for g in grays]
    return torch.from_numpy((np.stack(imgs) - 0.5) / 0.5).unsqueeze(1)


def seed_predict(model, tokenizer, grays: list[np.ndarray], batch: int = 32) -> list[str]:
    """The seed notebook's eager inference loop (its resize, batch size and greedy decode)."""
    out = []
    for start in range(0, len(grays), batch):
        with torch.no_grad():
            preds = model(seed_images(grays[start : start + batch])).softmax(-1).argmax(-1)
        for p in preds.cpu().numpy():
            chars, prev = [], -1
            for idx in p:
                if idx == 0:
                    prev = idx
                    continue
                if idx != prev:
                    chars.append(tokenizer.idx_to_char.get(int(idx), ""))
                prev = int(idx)
            out.append("".join(chars))
    return out
