"""Fonts of official documents (GB/T 9704-2012 and the usual 公文 practice).

The official faces (仿宋_GB2312, 方正小标宋简体, 黑体, 楷体_GB2312) are proprietary and are not
shipped; each role names them first and falls back to fonts Debian packages: Noto Serif/Sans CJK
SC (``fonts-noto-cjk``) and AR PL UKai (``fonts-arphic-ukai``). A machine with the official
fonts installed prints with them; elsewhere the fallbacks keep the layout (sizes, lines, grid).
See docs/documents.md.
"""

from __future__ import annotations

# role → font names, preferred first.
FONTS: dict[str, list[str]] = {
    # 正文、主送机关、发文字号、成文日期: 3号仿宋
    "fangsong": ["仿宋_GB2312", "FangSong_GB2312", "仿宋", "FangSong", "Noto Serif CJK SC"],
    # 发文机关标志、标题: 小标宋
    "xiaobiaosong": ["方正小标宋简体", "FZXiaoBiaoSong-B05S", "Noto Serif CJK SC"],
    # 一级标题 一、: 黑体
    "heiti": ["黑体", "SimHei", "Noto Sans CJK SC"],
    # 二级标题 （一）: 楷体
    "kaiti": ["楷体_GB2312", "KaiTi_GB2312", "楷体", "KaiTi", "AR PL UKai CN"],
    # 页码: 4号半角宋体阿拉伯数字
    "song": ["宋体", "SimSun", "Noto Serif CJK SC"],
}
LATIN = "Times New Roman"

# Sizes in points (字号): 2号 22pt, 3号 16pt, 4号 14pt.
SIZE_ORGAN = 30.0  # 发文机关标志 (not fixed by the standard; ≤ 22 mm high)
SIZE_TITLE = 22.0  # 2号
SIZE_BODY = 16.0  # 3号
SIZE_PAGE_NUMBER = 14.0  # 4号
SIZE_RECORD = 14.0  # 版记 4号

# Page: A4, margins (mm) top 37, bottom 35, left 28, right 26 → text area 156 × 225 mm,
# 22 lines of 28 characters: line pitch 225 mm / 22 = 28.95 pt.
PAGE_MM = (210.0, 297.0)
MARGINS_MM = {"top": 37.0, "bottom": 35.0, "left": 28.0, "right": 26.0}
LINES_PER_PAGE = 22
CHARS_PER_LINE = 28
MM_PER_PT = 25.4 / 72
LINE_PITCH_PT = round((PAGE_MM[1] - 37.0 - 35.0) / MM_PER_PT / LINES_PER_PAGE, 2)  # 28.95

RED = "FF0000"


def first(role: str) -> str:
    return FONTS[role][0]


def fallback(role: str) -> str:
    return FONTS[role][-1]


def css_stack(role: str) -> str:
    return ", ".join(f'"{name}"' for name in FONTS[role])
