"""Deterministic fakes for the tests that need *an* embedder and *an* index, not the real model.

``FakeHashEmbedder`` implements :class:`rag.embedder.Embedder` by hashing character unigrams and
bigrams into a small vector (like llm's ``EmbedDemo``): texts that share characters are close,
the same text always gives the same vector, and nothing is loaded. ``FAKE_ARTICLES`` is a tiny
corpus written here, so an index of it builds in about a second.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.embedder import EmbedderInfo, TokenStats

FAKE_DIM = 256


class FakeHashEmbedder:
    """A fake embedder: character unigrams and bigrams hashed (CRC-32) into ``FAKE_DIM`` buckets."""

    def __init__(self, dim: int = FAKE_DIM) -> None:
        self.info = EmbedderInfo("fake", f"fake-hash-bigrams-{dim}", dim)
        self.runtime = "fake"

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.info.dim, np.float32)
        chars = [c for c in text if not c.isspace()]
        for gram in chars + [a + b for a, b in zip(chars, chars[1:], strict=False)]:
            v[zlib.crc32(gram.encode("utf-8")) % self.info.dim] += 1.0
        norm = float(np.linalg.norm(v))
        return v / norm if norm else v

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.info.dim), np.float32)
        return np.vstack([self._vector(t) for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)

    def token_stats(self, texts: Sequence[str]) -> TokenStats:
        return TokenStats(unk_share=None, windowed_share=0.0)


# Six short articles with front matter: enough for search, cited answers, metadata questions,
# follow-ups and refusals, embedded in a fraction of a second.
FAKE_ARTICLES: dict[str, str] = {
    "a_platform.md": """---
title: 产业互联网平台的三个阶段
author: 张三
date: 2022-03-01
---

产业互联网平台的发展分为三个阶段：连接、协同和智能。第一个阶段是连接，企业把设备、订单和库存搬到线上。
第二个阶段是协同，上下游企业在同一个平台上共享数据，减少库存和等待。第三个阶段是智能，平台用数据优化生产和物流。

产业互联网和消费互联网的区别在于服务对象：消费互联网服务个人用户，产业互联网服务企业和产业链。
产业互联网的价值来自效率的提升，而不是流量的增长。

平台企业要赢得传统企业的信任，必须先帮助它们解决一个具体的问题，比如采购成本太高或者回款太慢。
很多平台失败的原因是只做撮合交易，没有深入到生产环节，企业用过一次之后就不再回来。
成功的平台往往从一个细分行业做起，把行业里的订单、物流和金融服务连成一条线，再复制到相邻的行业。
""",
    "b_logistics.md": """---
title: 物流数字化的实践
author: 李四
date: 2023-06-15
---

物流数字化让仓储和运输的每一个环节都可以被追踪。某物流企业通过数字化调度，把车辆空驶率降低了百分之二十。
数字化调度系统根据订单和路况自动安排车辆，司机在手机上接单。

物流企业推进数字化时遇到的最大困难是数据标准不统一，不同系统之间无法直接交换数据。

为了解决数据标准的问题，几家大型物流企业联合制定了运单和仓储数据的统一格式，并开放给中小企业免费使用。
冷链运输对数字化的要求更高，每一辆冷藏车都要实时上报温度，一旦超出范围，系统会立刻通知司机和货主。
""",
    "c_manufacturing.md": """---
title: 制造业的工业互联网转型
author: 王五
date: 2021-09-30
---

工业互联网把工厂里的机器连接起来，实时采集设备的运行数据。通过预测性维护，工厂可以在设备故障之前安排检修。
制造企业转型的关键是人才，既懂生产又懂软件的工程师非常稀缺。

中小制造企业可以先从一条产线开始试点，再逐步推广到整个工厂。

一家汽车零部件工厂在冲压线上安装了振动传感器，三个月内减少了四成的非计划停机。
工厂还把质检照片交给视觉算法检查，漏检率明显下降，质检员转去处理算法拿不准的疑难样本。
""",
    "d_finance.md": """---
title: 供应链金融的新变化
author: 赵六
date: 2023-01-10
---

供应链金融让银行可以根据真实的订单和发票给中小企业放款，不再只看抵押物。
核心企业在平台上确认应付账款之后，上游供应商可以把这笔账款拆分、转让或者提前融资。
""",
    "e_agriculture.md": """---
title: 农业产业互联网的落地
author: 钱七
date: 2022-11-05
---

农业产业互联网把种植、收购和销售连在一起，农户在播种之前就能拿到订单。
合作社用无人机巡田，病虫害发现得更早，农药用量减少了三成。
""",
    "f_energy.md": """---
title: 能源行业的数字化调度
author: 孙八
date: 2024-02-20
---

电网公司用负荷预测模型安排发电计划，风电和光伏的弃电率逐年下降。
工业园区的能源管理平台把每台设备的用电曲线画出来，帮助企业在电价低的时段生产。
""",
}


def write_fake_corpus(directory: Path) -> Path:
    """Write ``FAKE_ARTICLES`` into ``directory`` (created) and return it."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in FAKE_ARTICLES.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory
