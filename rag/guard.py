"""Questions that are really instructions to the assistant (prompt injection), refused up front.

Passages and questions always reach an LLM as quoted data; this check adds a plain refusal for
messages whose point is to change the assistant's rules or extract its configuration, so that
neither mode answers them with retrieved text (or spends an LLM call on them).
"""

from __future__ import annotations

import re

INSTRUCTION_TEXT = "我只能根据文章内容回答问题，不能执行修改规则、切换模式或泄露系统设置之类的指令。请直接提出与这些文章相关的问题。"

_PATTERNS = (
    # "ignore / forget the previous rules|instructions|retrieval results"
    r"(?:忽略|无视|忘掉|忘记|不要理会|跳过)(?:你|掉)?(?:之前|以前|先前|上面|以上|前面|所有|全部|一切)?"
    r"(?:收到|给你|看到)?的?(?:所有|全部|一切)?(?:规则|指令|指示|提示|设定|要求|限制|约束|检索结果|资料)",
    r"系统提示词?|系统\s*prompt",
    r"(?:输出|显示|告诉我|打印|泄露|复述)(?:一下)?(?:你的?)?(?:完整的?)?(?:系统|内部)(?:配置|设定|指令|规则)",
    r"(?:开发者|调试|管理员|上帝|越狱)模式",
    r"【\s*系统(?:通知|消息|指令)\s*】",
    r"(?:限制|规则|约束)已?(?:被)?解除",
    r"你(?:现在)?(?:已经)?(?:不再受|不受|没有)(?:任何)?(?:限制|约束|规则)",
    r"\bignore\s+(?:all\s+)?(?:the\s+)?(?:previous|prior|above)\s+(?:instructions|rules|prompts?)",
    r"\bsystem\s+prompt\b",
    r"\bjailbreak\b",
)
_INSTRUCTION = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.IGNORECASE)


def looks_like_instruction(question: str) -> bool:
    """True when the question tries to override the assistant's rules rather than ask about the articles."""
    return bool(_INSTRUCTION.search(question))
