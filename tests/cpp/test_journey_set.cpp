#include "fixtures.hpp"

using namespace journeyloop;
using Catch::Contains;

TEST_CASE("journey_set: channels get ids in first-appearance order, tokens trimmed",
          "[journey_set]") {
    const auto js = fixtures::abc_example();
    REQUIRE(js.size() == 3);
    REQUIRE(js.channels().names() == std::vector<std::string>{"a", "b", "c"});
    REQUIRE(js.total_conversions() == 3);
    REQUIRE(js.total_nulls() == 3);
    REQUIRE(js.total_value() == 40);
    REQUIRE(js.total_touches() == 5);
    const auto p = js.path(2);
    REQUIRE(p.size() == 2);
    REQUIRE(p[0] == 0);
    REQUIRE(p[1] == 2);
}

TEST_CASE("journey_set: optional nulls and value columns", "[journey_set]") {
    std::vector<std::string_view> paths{"x>y", "  y  "};
    std::vector<double> conv{2, 1};
    const auto js = build_journeys({paths, conv, {}, {}});
    REQUIRE(js.total_nulls() == 0);
    REQUIRE(js.total_value() == 0);
    REQUIRE(js.channels().names() == std::vector<std::string>{"x", "y"});
}

TEST_CASE("journey_set: custom separator", "[journey_set]") {
    std::vector<std::string_view> paths{"a>>>b>>>c"};
    std::vector<double> conv{1};
    path_options o;
    o.separator = ">>>";
    const auto js = build_journeys({paths, conv, {}, {}}, o);
    REQUIRE(js.path(0).size() == 3);
}

TEST_CASE("journey_set: bad rows name the row and the column", "[journey_set][errors]") {
    std::vector<double> conv{1, 1};
    path_options o;
    o.path_column = "path";
    o.conversions_column = "total_conversions";
    o.nulls_column = "total_null";
    o.value_column = "total_value";
    SECTION("empty path") {
        std::vector<std::string_view> paths{"a", "  "};
        REQUIRE_THROWS_AS(build_journeys({paths, conv, {}, {}}, o), invalid_input);
        REQUIRE_THROWS_WITH(build_journeys({paths, conv, {}, {}}, o),
                            Contains("row 1, column 'path': empty path"));
    }
    SECTION("empty token") {
        std::vector<std::string_view> paths{"a >> b", "a"};
        REQUIRE_THROWS_WITH(build_journeys({paths, conv, {}, {}}, o),
                            Contains("row 0, column 'path': empty channel name in 'a >> b'"));
    }
    SECTION("trailing separator") {
        std::vector<std::string_view> paths{"a", "a > "};
        REQUIRE_THROWS_WITH(build_journeys({paths, conv, {}, {}}, o),
                            Contains("row 1, column 'path': empty channel name"));
    }
    std::vector<std::string_view> paths{"a", "b"};
    SECTION("negative count") {
        std::vector<double> nulls{0, -1};
        REQUIRE_THROWS_WITH(build_journeys({paths, conv, nulls, {}}, o),
                            Contains("row 1, column 'total_null': negative count -1"));
    }
    SECTION("NaN count") {
        std::vector<double> bad{std::nan(""), 1};
        REQUIRE_THROWS_WITH(build_journeys({paths, bad, {}, {}}, o),
                            Contains("row 0, column 'total_conversions': count is NaN"));
    }
    SECTION("infinite value") {
        std::vector<double> value{1, HUGE_VAL};
        REQUIRE_THROWS_WITH(build_journeys({paths, conv, {}, value}, o),
                            Contains("row 1, column 'total_value': value is infinite"));
    }
    SECTION("value without conversions") {
        std::vector<double> c{1, 0}, value{1, 5};
        REQUIRE_THROWS_WITH(build_journeys({paths, c, {}, value}, o),
                            Contains("row 1, column 'total_value': value 5 on a row without"));
    }
    SECTION("columns of unequal length") {
        std::vector<double> short_col{1};
        REQUIRE_THROWS_WITH(build_journeys({paths, short_col, {}, {}}, o),
                            Contains("column 'total_conversions' has 1 rows"));
    }
}

TEST_CASE("journey_set: a row with no outcomes is kept, not dropped", "[journey_set]") {
    std::vector<std::string_view> paths{"a", "b"};
    std::vector<double> conv{1, 0}, nulls{0, 0};
    const auto js = build_journeys({paths, conv, nulls, {}});
    REQUIRE(js.size() == 2);
    REQUIRE(js.channels().size() == 2);
}

TEST_CASE("journey_set: row offsets are 32-bit, and the touch bound is checked",
          "[journey_set][errors]") {
    REQUIRE(journey_set::max_touches == 4294967295u);
    REQUIRE_NOTHROW(journey_set::check_touches(journey_set::max_touches));
    REQUIRE_THROWS_WITH(journey_set::check_touches(journey_set::max_touches + 1),
                        Contains("more than 4294967295 touches in one set of journeys"));
    {
        // The builders, with the bound lowered (a set of max_touches touches
        // would not fit in a test's memory): each refuses before it changes anything.
        const fixtures::touch_limit_guard limit(5);
        journey_set js;
        std::vector<std::string_view> abc{"a", "b", "c"};
        js.add(abc, 1, 0, 0);
        REQUIRE_THROWS_WITH(js.add(abc, 1, 0, 0), Contains("more than 5 touches"));
        std::vector<std::string_view> de{"d", "e", "f"};
        REQUIRE_THROWS_AS(js.add(de, 1, 0, 0), invalid_input);
        std::vector<std::string_view> paths{"a > b", "c"};
        std::vector<double> conv{1, 1};
        REQUIRE_THROWS_AS(append_journeys(js, {paths, conv, {}, {}}), invalid_input);
        REQUIRE(js.size() == 1);
        REQUIRE(js.total_touches() == 3);
        REQUIRE(js.channels().size() == 3); // d, e, f were not interned
        REQUIRE(js.total_conversions() == 1);
        std::vector<std::string_view> six{"a > b > c", "a > b > c"};
        REQUIRE_THROWS_AS(build_journeys({six, conv, {}, {}}), invalid_input);
        std::vector<std::string_view> five{"a > b > c", "a > b"};
        REQUIRE(build_journeys({five, conv, {}, {}}).total_touches() == 5);
    }
    // Offsets past 2^16 (and every row's path) survive the narrower type.
    std::vector<std::string> rows;
    for (int i = 0; i < 40000; ++i) rows.push_back(i % 2 ? "a > b > c" : "b");
    std::vector<std::string_view> paths(rows.begin(), rows.end());
    std::vector<double> conv(rows.size(), 1.0);
    const auto js = build_journeys({paths, conv, {}, {}});
    REQUIRE(js.total_touches() == 20000 * 3 + 20000); // two parsing threads
    REQUIRE(js.path(39999).size() == 3);
    REQUIRE(js.path(39999)[2] == js.channels().at("c"));
    REQUIRE(js.path(39998).size() == 1);
}

TEST_CASE("channel_dictionary: lookups", "[journey_set]") {
    channel_dictionary d;
    REQUIRE(d.intern("email") == 0);
    REQUIRE(d.intern("demo") == 1);
    REQUIRE(d.intern("email") == 0);
    REQUIRE(d.at("demo") == 1);
    REQUIRE_FALSE(d.find("tv").has_value());
    REQUIRE_THROWS_AS(d.at("tv"), unknown_channel);
    REQUIRE_THROWS_WITH(d.at("tv"), Contains("unknown channel 'tv'"));
}

TEST_CASE("read_path_csv: reads quoted fields and reports bad numbers", "[journey_set]") {
    const auto dir = std::filesystem::temp_directory_path();
    const auto file = (dir / "journeyloop_test_paths.csv").string();
    {
        std::ofstream out(file);
        out << "path;conv;nul\n\"a > b\";1;2\nb;0;1\n";
    }
    csv_options o;
    o.delimiter = ';';
    o.columns.conversions_column = "conv";
    o.columns.nulls_column = "nul";
    o.columns.value_column = "";
    const auto js = read_path_csv(file, o);
    REQUIRE(js.size() == 2);
    REQUIRE(js.total_nulls() == 3);
    {
        std::ofstream out(file);
        out << "path;conv;nul\na;1;2\nb;x;1\n";
    }
    REQUIRE_THROWS_WITH(read_path_csv(file, o), Contains("row 1, column 'conv': not a number"));
    o.columns.nulls_column = "missing";
    REQUIRE_THROWS_WITH(read_path_csv(file, o), Contains("no column 'missing'"));
    std::filesystem::remove(file);
}

TEST_CASE("journey_set: Arrow string columns, nulls and a failed append", "[journey_set]") {
    const std::string chars = "a > bcx";
    std::vector<std::int64_t> offsets{0, 5, 6, 7};
    const std::uint8_t validity[] = {0b011}; // row 2 is null
    std::vector<double> conv{1, 0, 1}, nulls{0, 1, 0};
    journey_set js;
    // Rows 0 and 1 only.
    append_journeys(js,
                    {string_column_view(offsets.data(), chars.data(), 2, validity),
                     {conv.data(), 2},
                     {nulls.data(), 2},
                     {}},
                    {}, 0);
    REQUIRE(js.size() == 2);
    REQUIRE(js.channels().names() == std::vector<std::string>{"a", "b", "c"});
    // Row 2 is null: the append fails, names the row, and changes nothing.
    std::vector<std::int32_t> offsets32{0, 1, 1};
    const std::uint8_t validity2[] = {0b01};
    const std::string more = "d";
    REQUIRE_THROWS_WITH(
        append_journeys(js,
                        {string_column_view(offsets32.data(), more.data(), 2, validity2),
                         {conv.data(), 2},
                         {nulls.data(), 2},
                         {}},
                        {}, 2),
        Contains("row 3, column 'path': missing path (null)"));
    REQUIRE(js.size() == 2);
    REQUIRE(js.channels().size() == 3); // "d" was interned, then undone
    REQUIRE_FALSE(js.channels().find("d").has_value());
    REQUIRE(js.total_conversions() == 1);
}

TEST_CASE("journey_set: parsing in parts on threads gives the same journeys", "[journey_set]") {
    // 300,000 rows: three parts when three threads are allowed.
    std::vector<std::string> paths;
    std::vector<double> conv, nulls;
    for (int i = 0; i < 300000; ++i) {
        // channel c<i % 7> first appears late for the later channels
        paths.push_back("x > c" + std::to_string((i / 50000) % 7) + " > y");
        conv.push_back(i % 3 == 0);
        nulls.push_back(1);
    }
    const std::vector<std::string_view> views(paths.begin(), paths.end());
    path_options one, three;
    one.threads = 1;
    three.threads = 3;
    const auto a = build_journeys({views, conv, nulls, {}}, one);
    const auto b = build_journeys({views, conv, nulls, {}}, three);
    REQUIRE(a.channels().names() == b.channels().names());
    REQUIRE(a.channels().names()[2] == "y");
    REQUIRE(a.total_touches() == b.total_touches());
    REQUIRE(a.total_conversions() == b.total_conversions());
    for (std::size_t r : {0ul, 123456ul, 299999ul}) {
        const auto pa = a.path(r), pb = b.path(r);
        REQUIRE(std::vector<channel_id>(pa.begin(), pa.end()) ==
                std::vector<channel_id>(pb.begin(), pb.end()));
    }
    // Bad rows in two parts: the first one is reported.
    paths[250001] = "a >> b";
    paths[150002] = "";
    const std::vector<std::string_view> bad(paths.begin(), paths.end());
    REQUIRE_THROWS_WITH(build_journeys({bad, conv, nulls, {}}, three),
                        Contains("row 150002, column 'path': empty path"));
}

TEST_CASE("journey_set: channel names of every length, blanks, last tokens at the buffer end",
          "[journey_set]") {
    // Names from 1 to 12 bytes (the short ones are looked up by their bytes
    // as one word), names equal in their first 8 bytes, a name with a NUL
    // byte, all parsed from one Arrow buffer with no byte after the last row.
    std::vector<std::string> names;
    for (int len = 1; len <= 12; ++len) names.push_back(std::string(std::size_t(len), 'a'));
    names.push_back("abcdefgh1");
    names.push_back("abcdefgh2");
    names.push_back(std::string("a\0", 2));
    std::string chars;
    std::vector<std::int64_t> offsets{0};
    std::vector<std::vector<std::string>> expected;
    for (std::size_t r = 0; r < 40; ++r) {
        std::vector<std::string> row;
        std::string text = r % 3 == 0 ? "  " : "";
        for (std::size_t j = 0; j <= r % 5; ++j) {
            const auto& name = names[(r * 7 + j * 3) % names.size()];
            if (j > 0) text += r % 2 ? ">" : " > ";
            text += name;
            row.push_back(name);
        }
        if (r % 4 == 0) text += "\t";
        chars += text;
        offsets.push_back(static_cast<std::int64_t>(chars.size()));
        expected.push_back(row);
    }
    const std::vector<char> exact(chars.begin(), chars.end()); // no terminator after it
    std::vector<double> conv(40, 1.0);
    journey_set js;
    append_journeys(js, {string_column_view(offsets.data(), exact.data(), 40), conv, {}, {}}, {},
                    0);
    REQUIRE(js.size() == 40);
    for (std::size_t r = 0; r < 40; ++r) {
        std::vector<std::string> got;
        for (auto id : js.path(r)) got.push_back(js.channels().name(id));
        REQUIRE(got == expected[r]);
    }
    REQUIRE(js.channels().find("a").has_value());
    REQUIRE(*js.channels().find("a") != *js.channels().find(std::string("a\0", 2)));
}

TEST_CASE("journey_set: appending in chunks after reserve() equals one append", "[journey_set]") {
    std::vector<std::string> paths;
    std::vector<double> conv;
    for (int i = 0; i < 90000; ++i) {
        paths.push_back("p" + std::to_string(i % 11) + " > q" + std::to_string(i % 5));
        conv.push_back(i % 2);
    }
    const std::vector<std::string_view> views(paths.begin(), paths.end());
    const auto whole = build_journeys({views, conv, {}, {}}, {});
    journey_set chunked;
    chunked.reserve(views.size(), 2 * views.size());
    for (std::size_t first = 0; first < views.size(); first += 30000) {
        const column_view<std::string_view> v(views.data() + first, 30000);
        const column_view<double> c(conv.data() + first, 30000);
        append_journeys(chunked, {v, c, {}, {}}, {}, first);
    }
    REQUIRE(chunked.size() == whole.size());
    REQUIRE(chunked.channels().names() == whole.channels().names());
    REQUIRE(chunked.total_conversions() == whole.total_conversions());
    for (std::size_t r = 0; r < whole.size(); r += 997) {
        const auto a = whole.path(r), b = chunked.path(r);
        REQUIRE(std::vector<channel_id>(a.begin(), a.end()) ==
                std::vector<channel_id>(b.begin(), b.end()));
    }
}

TEST_CASE("journey_set: long rows, many names and random blanks parse as a plain split",
          "[journey_set]") {
    // Rows of up to 40 tokens (several 64-byte separator masks), 5,000
    // distinct names of 1 to 11 bytes (more raw tokens than the short-token
    // cache holds, so entries are evicted and looked up again), blanks of
    // random kinds and widths around the tokens; as an Arrow buffer with no
    // byte after the last row and as separate strings, on one and on two
    // threads. The reference is a plain split on '>' and a trim.
    fixtures::lcg random(12345);
    auto next = [&random](std::uint64_t bound) { return random() % bound; };
    std::vector<std::string> names;
    for (int i = 0; i < 5000; ++i) {
        std::string name = "n" + std::to_string(i);
        while (name.size() < 1 + next(11)) name += char('a' + next(26));
        names.push_back(name);
    }
    const char* blanks[] = {"", " ", "  ", "\t", " \t "};
    const std::size_t rows = 45000;
    std::vector<std::string> texts;
    std::vector<std::vector<std::string>> expected;
    std::string chars;
    std::vector<std::int64_t> offsets{0};
    for (std::size_t r = 0; r < rows; ++r) {
        std::string text;
        std::vector<std::string> row;
        const std::size_t tokens = 1 + next(r % 10 == 0 ? 40 : 8);
        for (std::size_t j = 0; j < tokens; ++j) {
            // Popular names most of the time, any name sometimes.
            const auto& name = names[next(4) == 0 ? next(names.size()) : next(30)];
            if (j > 0) text += '>';
            text += blanks[next(5)];
            text += name;
            text += blanks[next(5)];
            row.push_back(name);
        }
        chars += text;
        offsets.push_back(static_cast<std::int64_t>(chars.size()));
        texts.push_back(text);
        expected.push_back(row);
    }
    const std::vector<char> exact(chars.begin(), chars.end());
    // Separate strings: no readable byte after any row.
    std::vector<std::unique_ptr<char[]>> owned;
    std::vector<std::string_view> views;
    for (const auto& t : texts) {
        owned.emplace_back(new char[t.size()]);
        std::memcpy(owned.back().get(), t.data(), t.size());
        views.emplace_back(owned.back().get(), t.size());
    }
    std::vector<std::int32_t> conv(rows, 1);
    for (std::size_t threads : {1u, 2u}) {
        path_options options;
        options.threads = threads;
        const auto arrow = build_journeys(
            {string_column_view(offsets.data(), exact.data(), rows), conv, {}, {}}, options);
        const auto separate = build_journeys({views, conv, {}, {}}, options);
        for (const auto* js : {&arrow, &separate}) {
            REQUIRE(js->size() == rows);
            REQUIRE(js->total_conversions() == double(rows));
            for (std::size_t r = 0; r < rows; ++r) {
                const auto path = js->path(r);
                REQUIRE(path.size() == expected[r].size());
                for (std::size_t j = 0; j < path.size(); ++j)
                    REQUIRE(js->channels().name(path[j]) == expected[r][j]);
            }
        }
        REQUIRE(arrow.channels().names() == separate.channels().names());
    }
}

TEST_CASE(
    "errors: every journeyloop error is caught by journeyloop::error and by its standard base",
    "[errors]") {
    const std::vector<std::string_view> paths{"a > > b"};
    const std::vector<double> conv{1};
    const path_options o;
    try {
        build_journeys({paths, conv, {}, {}}, o);
        FAIL("an empty token was accepted");
    } catch (const error& e) {
        REQUIRE(dynamic_cast<const invalid_input*>(&e) != nullptr);
        REQUIRE_THAT(dynamic_cast<const std::exception&>(e).what(), Contains("row 0"));
    }
    REQUIRE_THROWS_AS(build_journeys({paths, conv, {}, {}}, o), std::invalid_argument);
    const state_space_too_large too_large(7, 5);
    REQUIRE(dynamic_cast<const error*>(&too_large) != nullptr);
    REQUIRE(dynamic_cast<const error*>(static_cast<const std::exception*>(&too_large)) != nullptr);
    REQUIRE(std::is_base_of_v<error, unknown_channel>);
    REQUIRE(std::is_base_of_v<error, numerical_error>);
}

TEST_CASE("journey_set: add_ids appends rows by channel id, checked like add", "[journey_set]") {
    auto js = fixtures::abc_example(); // a = 0, b = 1, c = 2
    const std::vector<channel_id> cab{2, 0, 1};
    js.add_ids(cab, 2, 1, 7.5, 3);
    REQUIRE(js.size() == 4);
    REQUIRE(std::vector<channel_id>(js.path(3).begin(), js.path(3).end()) == cab);
    REQUIRE(js.conversions(3) == 2);
    REQUIRE(js.nulls(3) == 1);
    REQUIRE(js.value(3) == 7.5);
    REQUIRE(js.total_conversions() == 5);
    REQUIRE(js.total_nulls() == 4);
    REQUIRE(js.total_value() == 47.5);
    REQUIRE(js.total_touches() == 8);
    REQUIRE(js.channels().names() == std::vector<std::string>{"a", "b", "c"});
    // The same row added by name gives the same counts.
    auto by_name = fixtures::abc_example();
    const std::vector<std::string_view> names{"c", "a", "b"};
    by_name.add(names, 2, 1, 7.5, 3);
    REQUIRE(count_transitions(js) == count_transitions(by_name));
    const std::vector<channel_id> unknown{0, 3}, none;
    REQUIRE_THROWS_AS(js.add_ids(unknown, 1, 0, 0, 9), unknown_channel);
    REQUIRE_THROWS_WITH(js.add_ids(unknown, 1, 0, 0, 9), Contains("row 9: unknown channel id 3"));
    REQUIRE_THROWS_WITH(js.add_ids(none, 1, 0, 0, 9), Contains("empty path"));
    REQUIRE_THROWS_AS(js.add_ids(cab, -1, 0, 0, 9), invalid_input);
    REQUIRE(js.size() == 4); // a refused row leaves the set as it was
    REQUIRE(js.total_conversions() == 5);
}

TEST_CASE("journey_set: counts whose total passes the largest double are refused at that row",
          "[journey_set]") {
    const std::vector<std::string_view> paths{"a", "b", "c"};
    const std::vector<double> conv{1, 1e308, 1e308};
    const std::vector<double> value{1, 2, 3};
    path_options o;
    REQUIRE_THROWS_WITH(build_journeys({paths, conv, {}, {}}, o),
                        "row 2, column 'conversions': the column's total passes the largest "
                        "number a double holds (about 1.8e308); scale the column down");
    const std::vector<double> ok{1, 1, 1};
    const std::vector<double> big{1e308, 1e308, 0};
    REQUIRE_THROWS_WITH(build_journeys({paths, ok, {}, big}, o),
                        Contains("row 1, column 'value': the column's total passes"));
    // An append that overflows leaves the journeys as they were.
    auto js = build_journeys({paths, ok, {}, {}}, o);
    const std::vector<std::string_view> more{"a"};
    const std::vector<double> huge{1.7e308};
    append_journeys(js, {more, huge, {}, {}}, o, 3);
    REQUIRE_THROWS_WITH(append_journeys(js, {more, huge, {}, {}}, o, 4),
                        Contains("row 4, column 'conversions'"));
    REQUIRE(js.size() == 4);
    REQUIRE(js.total_conversions() == 3 + 1.7e308);
    REQUIRE(js.total_touches() == 4);
}
