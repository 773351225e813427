using Tollgate.Optimization.SemanticCaching;
using Xunit;

namespace Tollgate.Tests.Optimization;

/// <summary>
/// NFC and NFD without ICU (the gateway runs in invariant globalization mode, where string.Normalize does nothing). The
/// expected forms were computed by Python's unicodedata (Unicode 14), independently of the tables' use here.
/// </summary>
public sealed class UnicodeFormsTests
{
    [Theory]
    [InlineData("e\u0323\u0302", "\u1EC7", "e\u0323\u0302")]
    [InlineData("e\u0302\u0323", "\u1EC7", "e\u0323\u0302")]
    [InlineData("\u00EA\u0323", "\u1EC7", "e\u0323\u0302")]
    [InlineData("A\u030A", "\u00C5", "A\u030A")]
    [InlineData("\u212B", "\u00C5", "A\u030A")]
    [InlineData("\u1100\u1161\u11A8", "\uAC01", "\u1100\u1161\u11A8")]
    [InlineData("\uAC00\u11A8", "\uAC01", "\u1100\u1161\u11A8")]
    [InlineData("a\u0301\u0301", "\u00E1\u0301", "a\u0301\u0301")]
    [InlineData("\u0301a", "\u0301a", "\u0301a")]
    [InlineData("o\u031B\u0301i", "\u1EDBi", "o\u031B\u0301i")]
    [InlineData("\u0111a\u0300 na\u0306\u0303ng", "\u0111\u00E0 n\u1EB5ng", "\u0111a\u0300 na\u0306\u0303ng")]
    [InlineData("Ho\u0300 Chi\u0301 Minh", "H\u00F2 Ch\u00ED Minh", "Ho\u0300 Chi\u0301 Minh")]
    [InlineData("\u1EC7 \u1EBF", "\u1EC7 \u1EBF", "e\u0323\u0302 e\u0302\u0301")]
    [InlineData("x\u0345\u0313", "x\u0313\u0345", "x\u0313\u0345")]
    [InlineData("\u0344", "\u0308\u0301", "\u0308\u0301")]
    [InlineData("q\u0307\u0323", "q\u0323\u0307", "q\u0323\u0307")]
    [InlineData("\u0958", "\u0915\u093C", "\u0915\u093C")]
    [InlineData("\u2126 \u00C5 \u1E9B\u0323", "\u03A9 \u00C5 \u1E9B\u0323", "\u03A9 A\u030A \u017F\u0323\u0307")]
    [InlineData("plain ascii", "plain ascii", "plain ascii")]
    [InlineData("\u0915\u093C", "\u0915\u093C", "\u0915\u093C")]
    [InlineData("i\u0300 eo\u030A", "\u00EC eo\u030A", "i\u0300 eo\u030A")]
    [InlineData("u\u0103\u0306e\u0323deo\u0301", "u\u0103\u0306\u1EB9de\u00F3", "ua\u0306\u0306e\u0323deo\u0301")]
    [InlineData("o\u0111o\u0302\u0301e\u030A", "o\u0111\u1ED1e\u030A", "o\u0111o\u0302\u0301e\u030A")]
    [InlineData("u\u0111  \u0306e\u0306\u0306\u0300e", "u\u0111  \u0306\u0115\u0306\u0300e", "u\u0111  \u0306e\u0306\u0306\u0300e")]
    [InlineData("e\u0302i\u01A1", "\u00EAi\u01A1", "e\u0302io\u031B")]
    [InlineData("i\u0302u\u0306\u01A1\u0302\u030A", "\u00EE\u016D\u01A1\u0302\u030A", "i\u0302u\u0306o\u031B\u0302\u030A")]
    [InlineData("u\u0306\u0306", "\u016D\u0306", "u\u0306\u0306")]
    [InlineData("\u0103u\u0302\u1161", "\u0103\u00FB\u1161", "a\u0306u\u0302\u1161")]
    [InlineData("\u0306e", "\u0306e", "\u0306e")]
    [InlineData("d\u0309\u1100\u0302\u0301\u212B\u01B0\u0303\u0306\u0303", "d\u0309\u1100\u0302\u0301\u00C5\u1EEF\u0306\u0303", "d\u0309\u1100\u0302\u0301A\u030Au\u031B\u0303\u0306\u0303")]
    [InlineData("\u01A1\u0111Ay\u1161\u212B", "\u01A1\u0111Ay\u1161\u00C5", "o\u031B\u0111Ay\u1161A\u030A")]
    [InlineData("o\u0306\u01A1\u0323", "\u014F\u1EE3", "o\u0306o\u031B\u0323")]
    [InlineData("\u01B0\u11A8\u0303\u01A1\u031Bou\u0323", "\u01B0\u11A8\u0303\u01A1\u031Bo\u1EE5", "u\u031B\u11A8\u0303o\u031B\u031Bou\u0323")]
    [InlineData("y\u212B\u01B0i\u0309\u0301e", "y\u00C5\u01B0\u1EC9\u0301e", "yA\u030Au\u031Bi\u0309\u0301e")]
    [InlineData("\u212B\u0302", "\u00C5\u0302", "A\u030A\u0302")]
    [InlineData("A\u030A\u01B0\u01B0\u1161\u0103\u031B\u0309\u0306A", "\u00C5\u01B0\u01B0\u1161\u1EB3\u031B\u0306A", "A\u030Au\u031Bu\u031B\u1161a\u031B\u0306\u0309\u0306A")]
    [InlineData("o\u030Ao\u00EA\u0309\u1161\u1100o", "o\u030Ao\u1EC3\u1161\u1100o", "o\u030Aoe\u0302\u0309\u1161\u1100o")]
    [InlineData("\u11A8", "\u11A8", "\u11A8")]
    [InlineData(" \u0306\u1100\u030A\u0303", " \u0306\u1100\u030A\u0303", " \u0306\u1100\u030A\u0303")]
    [InlineData("\u1161\u0300\u1100\u0103a", "\u1161\u0300\u1100\u0103a", "\u1161\u0300\u1100a\u0306a")]
    [InlineData("\u0103y\u031Bu\u0309ed\u212B", "\u0103y\u031B\u1EE7ed\u00C5", "a\u0306y\u031Bu\u0309edA\u030A")]
    [InlineData("i\u11A8\u0111\u0300\u0300", "i\u11A8\u0111\u0300\u0300", "i\u11A8\u0111\u0300\u0300")]
    [InlineData("oy\u0303\u0300\u0302\u00EAi\u030A", "o\u1EF9\u0300\u0302\u00EAi\u030A", "oy\u0303\u0300\u0302e\u0302i\u030A")]
    [InlineData("\u0302\u00EA\u1161\u0301\u0103\u1100\u0300", "\u0302\u00EA\u1161\u0301\u0103\u1100\u0300", "\u0302e\u0302\u1161\u0301a\u0306\u1100\u0300")]
    [InlineData("ioyi", "ioyi", "ioyi")]
    [InlineData("\u1100\u0111a\u0309", "\u1100\u0111\u1EA3", "\u1100\u0111a\u0309")]
    [InlineData("y\u00EA\u01A1ai\u0301\u0302\u0103\u031B\u0306", "y\u00EA\u01A1a\u00ED\u0302\u0103\u031B\u0306", "ye\u0302o\u031Bai\u0301\u0302a\u031B\u0306\u0306")]
    [InlineData("i\u1161\u0323\u031B \u1100", "i\u1161\u031B\u0323 \u1100", "i\u1161\u031B\u0323 \u1100")]
    [InlineData("\u0303", "\u0303", "\u0303")]
    [InlineData("\u0300\u0300\u0300\u0300u\u0309 \u0300e", "\u0300\u0300\u0300\u0300\u1EE7 \u0300e", "\u0300\u0300\u0300\u0300u\u0309 \u0300e")]
    public void Composes_and_decomposes_as_the_unicode_database_says(string text, string nfc, string nfd)
    {
        Assert.Equal(nfc, UnicodeForms.Compose(text));
        Assert.Equal(nfd, UnicodeForms.Decompose(text));
    }

    [Fact]
    public void Composition_is_stable_and_reaches_the_same_form_from_either_side()
    {
        // Generated: strings of letters, Vietnamese precomposed letters, combining marks in any order, Hangul, lone
        // surrogates and characters beyond the plane.
        char[] pool = ['a', 'e', 'o', 'đ', 'ê', 'ơ', 'ư', 'ă', 'ệ', 'ế', '\u0300', '\u0301', '\u0303', '\u0309', '\u0323', '\u0302', '\u031B', '\u1100', '\u1161', '\u11A8', '가', '\u212B', '\uD800', '\uDC00', ' ', 'A', '\u030A'];
        var random = new Random(3);
        for (var i = 0; i < 5_000; i++)
        {
            var text = new string([.. Enumerable.Range(0, random.Next(0, 16)).Select(_ => pool[random.Next(pool.Length)])]);
            var nfc = UnicodeForms.Compose(text);
            var nfd = UnicodeForms.Decompose(text);
            Assert.Equal(nfc, UnicodeForms.Compose(nfc));
            Assert.Equal(nfc, UnicodeForms.Compose(nfd));
            Assert.Equal(nfd, UnicodeForms.Decompose(nfc));
        }

        // Hostile: a letter followed by 200,000 combining marks whose classes alternate (220, 230): sorted into canonical
        // order (all the 220s first) and composed once, in n log n.
        var flood = "e" + string.Concat(Enumerable.Repeat("\u0302\u0323", 100_000));
        var composed = UnicodeForms.Compose(flood);
        Assert.Equal("\u1EC7" + new string('\u0323', 99_999) + new string('\u0302', 99_999), composed);

        var ascii = "How long does delivery take?";
        Assert.Same(ascii, UnicodeForms.Compose(ascii));
        var vietnamese = "Giao hàng tới Đà Nẵng mất bao lâu?";
        Assert.Same(vietnamese, UnicodeForms.Compose(vietnamese)); // precomposed: nothing to do
    }
}
