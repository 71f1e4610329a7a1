"""Baselines a trained model is measured against: what it must beat to have learnt anything."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def ngram_log_likelihood(train: Sequence[Sequence[int]], test: Sequence[Sequence[int]],
                         vocab_size: int, order: int, alpha: float = 0.1) -> float:
    """Mean ln p(note) per note of ``test`` (token-id melodies) under an add-``alpha`` unigram
    (``order`` 1) or bigram (``order`` 2, p(note | the previous one)) fitted on ``train``, over
    the same notes a :class:`MelodyModel` scores (all but the first of each melody)."""
    if order not in (1, 2):
        raise ValueError("order is 1 (unigram) or 2 (bigram)")
    uni = np.full(vocab_size, alpha)
    bi = np.full((vocab_size, vocab_size), alpha)
    for seq in train:
        s = np.asarray(seq)
        np.add.at(uni, s, 1.0)
        np.add.at(bi, (s[:-1], s[1:]), 1.0)
    log_uni = np.log(uni / uni.sum())
    log_bi = np.log(bi / bi.sum(axis=1, keepdims=True))
    total, count = 0.0, 0
    for seq in test:
        s = np.asarray(seq)
        if len(s) < 2:
            continue
        total += float((log_uni[s[1:]] if order == 1 else log_bi[s[:-1], s[1:]]).sum())
        count += len(s) - 1
    return total / count
