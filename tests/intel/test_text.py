from xinfang.intel import text as T


def test_nfkc_and_placeholders() -> None:
    s = T.normalize(
        "ＡＢＣ１２３ 电话13812345678 身份证11010519491231002X 见 https://x.cn/a?b=1 编号123456"
    )
    assert "abc123" in s
    assert T.PHONE_TOKEN in s and "13812345678" not in s
    assert T.IDNO_TOKEN in s and "11010519491231002x" not in s
    assert T.URL_TOKEN in s and "x.cn" not in s
    assert T.NUM_TOKEN in s and "123456" not in s


def test_long_text_is_cut() -> None:
    assert len(T.normalize("噪音" * 50_000)) == T.MAX_BODY_CHARS
    assert len(T.normalize("标题" * 500, limit=T.MAX_TITLE_CHARS)) == T.MAX_TITLE_CHARS


def test_empty_and_punctuation() -> None:
    assert T.normalize(None) == ""
    assert list(T.char_ngrams(T.normalize("！！？。，……"))) == []
    assert T.words(T.normalize("？？？")) == []


def test_char_ngrams_stop_at_punctuation() -> None:
    grams = list(T.char_ngrams("噪音，扰民", 1, 2))
    assert "噪音" in grams and "扰民" in grams and "音扰" not in grams
