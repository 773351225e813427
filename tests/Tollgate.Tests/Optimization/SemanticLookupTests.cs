using System.Numerics.Tensors;
using System.Text;
using Tollgate.Optimization.SemanticCaching;
using Xunit;

namespace Tollgate.Tests.Optimization;

/// <summary>How questions are normalised and guarded before a semantic comparison, and that the index finds the nearest.</summary>
public sealed class SemanticLookupTests
{
    [Fact]
    public void The_normalised_question_alone_is_always_the_one_the_guards_are_built_with()
    {
        // Generated questions from pieces that exercise every rule: case, accents in both Unicode forms, numbers in each
        // notation, apostrophes, stopwords in both languages, sentence ends and capitalised names.
        string[] pieces =
        [
            "Shop", "ơi", ",", "bao", "lâu", "thì", "GIAO", "HÀNG", "tới", "Đà", "Nẵng", "vậy", "ạ", "?", "How", "long", "does",
            "the", "shipping", "to", "Da", "Nang", "take", "don't", "can’t", "1,000", "1.000", "2,5", "2.50", "007", "không",
            ".", "!", "\n", "I", "my", "Hà Nội", "a", "is", "e\u0301", "x1", "3rd", "'quoted'", "—", " ", "300k", "nghìn", "đ",
            "1tr", "TRIỆU", "đồng", "60kg", "9999999999999999999999", "3 giờ", "h", "chiều", "tối",
        ];
        var random = new Random(19);
        for (var i = 0; i < 5_000; i++)
        {
            var words = Enumerable.Range(0, random.Next(0, 14)).Select(_ => pieces[random.Next(pieces.Length)]);
            var text = string.Join(random.Next(3) == 0 ? string.Empty : " ", words);
            text = random.Next(4) == 0 ? UnicodeForms.Decompose(text) : text;
            Assert.Equal(QueryText.Of(text).Normalised, QueryText.NormalisedOf(text));
        }
    }

    [Fact]
    public void Composed_and_decomposed_vietnamese_case_punctuation_and_particles_normalise_alike()
    {
        var composed = QueryText.Of("Shop ơi, bao lâu thì GIAO HÀNG tới Đà Nẵng vậy ạ?");
        // Written decomposed (a base letter, then its combining marks), as some keyboards send it.
        const string Decomposed = "bao la\u0302u thi\u0300 giao ha\u0300ng to\u031B\u0301i \u0111a\u0300 na\u0306\u0303ng";
        Assert.NotEqual("bao lâu thì giao hàng tới đà nẵng", Decomposed);
        var decomposed = QueryText.Of(Decomposed);

        Assert.Equal("bao lâu giao hàng tới đà nẵng", composed.Normalised);
        Assert.Equal(composed.Normalised, decomposed.Normalised);
    }

    [Theory]
    [InlineData("Phí ship 1.000 đồng", "Phí ship 1,000 đồng")]
    [InlineData("refund within 2,5 days", "refund within 2.50 days")]
    [InlineData("order 007", "order 7")]
    [InlineData("Đơn trên 300k có freeship không?", "Đơn trên 300.000đ có freeship không?")]
    [InlineData("Mua từ 300 nghìn có freeship không?", "Mua từ 300K đồng có freeship không?")]
    [InlineData("Đơn từ 1tr được giảm bao nhiêu?", "Đơn từ 1.000.000 VND được giảm bao nhiêu?")]
    [InlineData("Trả góp 2,5 triệu mỗi tháng", "Trả góp 2.500.000đ mỗi tháng")]
    [InlineData("a 5k run", "a 5,000 run")]
    [InlineData("Đặt trước 3 giờ chiều có giao trong ngày không?", "Đặt trước 15h có giao trong ngày không?")]
    [InlineData("Sau 9h tối cửa hàng còn mở không?", "Sau 21 giờ cửa hàng còn mở không?")]
    public void A_number_written_two_ways_is_one_number(string a, string b)
    {
        Assert.Equal(QueryText.Of(a).Numbers, QueryText.Of(b).Numbers);
        Assert.Null(QueryText.Of(a).Conflict(QueryText.Of(b)));
    }

    [Fact]
    public void A_vietnamese_question_typed_without_diacritics_is_near_the_one_written_with_them_and_english_is_unchanged()
    {
        var lexical = new LexicalEmbedder();
        float Similarity(string a, string b) => TensorPrimitives.Dot(lexical.Embed(QueryText.Of(a).Normalised), lexical.Embed(QueryText.Of(b).Normalised));
        var written = "Đơn trên 300k có được miễn phí ship không?";
        var typed = "don tren 300k co duoc mien phi ship khong";

        Assert.True(Similarity(written, typed) >= 0.75, $"{Similarity(written, typed):F3}");
        Assert.Null(QueryText.Of(typed).Conflict(QueryText.Of(written))); // "khong" is the same negation as "không"
        Assert.True(Similarity(written, typed) > Similarity(written, "don tren 500k co duoc mien phi ship khong"));
        Assert.Equal("doi hang", QueryText.WithoutDiacritics("đổi hàng"));
        Assert.Null(QueryText.WithoutDiacritics("refund"));
        Assert.Null(QueryText.WithoutDiacritics("giao hang"));
    }

    [Fact]
    public void Only_an_amount_word_scales_a_number_and_a_huge_number_stays_itself()
    {
        Assert.Equal(["60"], QueryText.Of("Em nặng 60kg mặc size nào?").Numbers);
        Assert.Equal(["12"], QueryText.Of("Đặt trước 12h có giao trong ngày không?").Numbers);
        Assert.Equal(["9"], QueryText.Of("Mở cửa lúc 9 giờ sáng").Numbers);
        Assert.Equal("numbers", QueryText.Of("Đóng cửa lúc 9 giờ tối").Conflict(QueryText.Of("Đóng cửa lúc 9 giờ sáng")));
        Assert.True(QueryText.Of("3 chiều, 3 giờ chiều").Numbers.SetEquals(["3", "15"])); // "chiều" alone is not an hour
        Assert.Equal(["300000"], QueryText.Of("đơn 300k").Numbers);
        Assert.Equal(["9999999999999999999999"], QueryText.Of("đơn 9999999999999999999999k").Numbers);
        Assert.Equal("numbers", QueryText.Of("Đơn trên 500k có freeship không?").Conflict(QueryText.Of("Đơn trên 300.000đ có freeship không?")));
    }

    [Theory]
    [InlineData("Giao hàng trong 2 ngày được không?", "Giao hàng trong 3 ngày được không?", "numbers")]
    [InlineData("Can I return an opened item?", "Can I not return an opened item?", "negation")]
    [InlineData("Đơn hàng có được hoàn tiền?", "Đơn hàng không được hoàn tiền?", "negation")]
    [InlineData("Is the store in Hanoi open on Sunday?", "Is the store in Saigon open on Sunday?", "names")]
    [InlineData("Is the store open on Sunday?", "Is the store in Saigon open on Sunday?", "names")]
    public void Similar_questions_that_differ_in_a_number_a_negation_or_a_name_are_refused(string cached, string query, string reason)
    {
        Assert.Equal(reason, QueryText.Of(query).Conflict(QueryText.Of(cached)));
    }

    [Fact]
    public void A_name_written_in_lower_case_in_the_other_question_is_the_same_name()
    {
        Assert.Null(QueryText.Of("What is the best way to learn python?").Conflict(QueryText.Of("How do I learn Python quickly?")));
        Assert.Null(QueryText.Of("How do I learn Python quickly?").Conflict(QueryText.Of("What is the best way to learn python?")));
    }

    [Fact]
    public void The_first_word_of_a_sentence_is_not_taken_for_a_name()
    {
        Assert.Null(QueryText.Of("Where is my parcel?").Conflict(QueryText.Of("where is my parcel")));
    }

    [Fact]
    public void The_lexical_embedder_gives_unit_vectors_and_rewordings_score_above_unrelated_questions()
    {
        var embedder = new LexicalEmbedder();
        var a = embedder.Embed(QueryText.Of("How long does shipping to Da Nang take?").Normalised);
        var b = embedder.Embed(QueryText.Of("how long does the shipping to da nang take").Normalised);
        var c = embedder.Embed(QueryText.Of("What is your refund policy for opened items?").Normalised);

        Assert.Equal(1f, TensorPrimitives.Norm(a), 3);
        Assert.True(TensorPrimitives.Dot(a, b) > 0.99f);
        Assert.True(TensorPrimitives.Dot(a, c) < 0.3f);
    }

    [Fact]
    public void Up_to_the_exact_scan_limit_the_nearest_entry_is_the_brute_force_answer_and_removed_entries_are_not_found()
    {
        var random = new Random(7);
        var index = new VectorIndex(64);
        var vectors = Enumerable.Range(0, 2_000).Select(_ => Unit(random, 64)).ToList();
        var ids = vectors.Select(v => index.Add(v)).ToList();
        for (var i = 0; i < 500; i += 2)
        {
            index.Remove(ids[i]);
        }

        for (var q = 0; q < 100; q++)
        {
            var query = Unit(random, 64);
            var expected = Enumerable.Range(0, vectors.Count).Where(i => i >= 500 || i % 2 == 1)
                .MaxBy(i => TensorPrimitives.Dot(query, vectors[i]));
            Assert.Equal(ids[expected], index.Nearest(query)!.Value.Id);
        }
    }

    [Fact]
    public void A_sparse_query_compared_on_the_dimensions_it_uses_finds_the_brute_force_answer_and_its_cosine()
    {
        // Sparse like the lexical embedder's (30 of 1,024 dimensions used), and some dense queries among them.
        var random = new Random(23);
        var index = new VectorIndex(1024);
        var vectors = Enumerable.Range(0, 1_200).Select(_ => Sparse(random, 1024, 30)).ToList();
        var ids = vectors.Select(v => index.Add(v)).ToList();
        for (var q = 0; q < 300; q++)
        {
            var query = q % 10 == 0 ? Unit(random, 1024) : Sparse(random, 1024, random.Next(1, 129));
            var expected = Enumerable.Range(0, vectors.Count).MaxBy(i => TensorPrimitives.Dot(query, vectors[i]));
            var found = index.Nearest(query)!.Value;
            Assert.Equal(TensorPrimitives.Dot(query, vectors[expected]), found.Similarity, tolerance: 1e-5);
            Assert.Equal(TensorPrimitives.Dot(query, vectors[ids.IndexOf(found.Id)]), found.Similarity, tolerance: 1e-5);
        }
    }

    private static float[] Sparse(Random random, int dimensions, int used)
    {
        var vector = new float[dimensions];
        for (var k = 0; k < used; k++)
        {
            vector[random.Next(dimensions)] = (float)(random.NextDouble() - 0.5);
        }

        TensorPrimitives.Divide(vector, TensorPrimitives.Norm(vector), vector);
        return vector;
    }

    [Fact]
    public void Past_the_exact_scan_limit_a_near_copy_of_an_entry_still_finds_it()
    {
        var random = new Random(11);
        var index = new VectorIndex(384);
        var vectors = Enumerable.Range(0, 20_000).Select(_ => Unit(random, 384)).ToList();
        var ids = vectors.Select(v => index.Add(v)).ToList();

        for (var q = 0; q < 200; q++)
        {
            var target = random.Next(vectors.Count);
            var noisy = vectors[target].Select(x => x + (float)((random.NextDouble() - 0.5) * 0.03)).ToArray();
            TensorPrimitives.Divide(noisy, TensorPrimitives.Norm(noisy), noisy);
            var found = index.Nearest(noisy)!.Value;
            Assert.Equal(ids[target], found.Id);
            Assert.True(found.Similarity > 0.9f);
        }
    }

    [Fact]
    public void Past_the_exact_scan_limit_a_rewording_finds_its_question_among_lexical_vectors_too()
    {
        // The lexical embedder's vectors are sparse (a few dozen of 1,024 dimensions used): their SimHash is summed over
        // those alone, and must still lead to the right entry among 3,000, twice the exact-scan limit.
        var embedder = new LexicalEmbedder();
        string[] cities = ["Da Nang", "Hue", "Hanoi", "Can Tho", "Hai Phong", "Nha Trang", "Vinh", "Quy Nhon", "Da Lat", "Buon Ma Thuot"];
        string[] topics = ["shipping", "a refund", "an exchange", "delivery", "a repair", "pickup"];
        var index = new VectorIndex(embedder.Dimensions);
        Assert.True(index.ExactScanLimit < 3_000);
        var ids = new Dictionary<int, int>();
        for (var i = 0; i < 3_000; i++)
        {
            var question = $"How long does {topics[i % topics.Length]} to {cities[i / topics.Length % cities.Length]} take for order {i}?";
            ids[i] = index.Add(embedder.Embed(QueryText.Of(question).Normalised));
        }

        var random = new Random(5);
        for (var q = 0; q < 200; q++)
        {
            var i = random.Next(3_000);
            var reworded = $"order {i}: {topics[i % topics.Length]} to {cities[i / topics.Length % cities.Length]}, how long does it take";
            var found = index.Nearest(embedder.Embed(QueryText.Of(reworded).Normalised))!.Value;
            Assert.Equal(ids[i], found.Id);
        }
    }

    private static float[] Unit(Random random, int dimensions)
    {
        var vector = Enumerable.Range(0, dimensions).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        TensorPrimitives.Divide(vector, TensorPrimitives.Norm(vector), vector);
        return vector;
    }
}
