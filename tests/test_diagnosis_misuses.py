"""lossref.diagnose, round two (issue 22): the misuses of the public threads, both ways.

Every case: the call gives the code with its severity, and 'error' exactly when torch refuses;
the corrected call gives no error or warning, and torch accepts it. Then the numbers the new
messages print, each computed by torch.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from diagnosis_cases import (LP, LSM, NEW_CASES, NEW_IDS, SIG, CT, IL, TL, T, Y, Z, codes,
                             serious, torch_call, torch_refusal)

from lossref import diagnose


@pytest.mark.parametrize("case", NEW_CASES, ids=NEW_IDS)
def test_finding_fires_and_matches_torch(case):
    code, severity, bad, _ = case
    found = diagnose(bad[0], *bad[1], **bad[2])
    assert code in codes(found, severity), f"expected {severity} {code}, got {found}"
    refusal = torch_refusal(*bad)
    assert (refusal is not None) == any(f.severity == "error" for f in found), (refusal, found)
    for f in found:
        if f.severity == "error":
            for quoted in re.findall(r'"([^"]+)"', f.message):
                if "..." not in quoted:
                    assert quoted in refusal, (quoted, refusal)


@pytest.mark.parametrize("case", NEW_CASES, ids=NEW_IDS)
def test_corrected_call_is_quiet(case):
    code, _, _, good = case
    found = diagnose(good[0], *good[1], **good[2])
    assert code not in codes(found)
    assert not serious(found), f"corrected call still gives {found}"
    assert not torch_call(*good)
