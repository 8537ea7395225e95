// The pictures (lamina/plot): every PNG is decoded here without stb (chunk
// CRCs, IHDR, zlib stream of exactly the expected size, PNG filters undone)
// and its pixels checked where they mean something; every SVG is parsed by a
// small XML checker; DOT files are counted node by node.
#include <catch2/catch.hpp>

#include <lamina/images.hpp>

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "matchers.hpp"
#include "temp_dir.hpp"

using namespace lamina;

namespace {

// The checkers throw instead of REQUIRE-ing, so that tests can also show
// that they reject broken files.
void expect(bool ok, const std::string& what) {
    if (!ok) throw std::runtime_error(what);
}

// ---- PNG, decoded from first principles --------------------------------------------------------

struct DecodedPng {
    int width = 0, height = 0;
    std::vector<std::uint8_t> rgb;  // (height, width, 3)
    plot::Rgb at(int x, int y) const {
        const std::size_t i = (std::size_t(y) * std::size_t(width) + std::size_t(x)) * 3;
        return {rgb[i], rgb[i + 1], rgb[i + 2]};
    }
};

std::uint32_t be32(const std::vector<std::uint8_t>& b, std::size_t at) {
    return std::uint32_t(b[at]) << 24 | std::uint32_t(b[at + 1]) << 16 | std::uint32_t(b[at + 2]) << 8 | b[at + 3];
}

int paeth(int a, int b, int c) {
    const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

// Checks the signature, that IHDR comes first and says 8-bit RGB without
// interlace, every chunk's CRC, that IEND ends the file, and that the IDAT
// zlib stream inflates to exactly height * (1 + 3 * width) bytes; then undoes
// the five PNG row filters.
DecodedPng decode_png(const std::vector<std::uint8_t>& b) {
    static const std::uint8_t signature[8] = {137, 80, 78, 71, 13, 10, 26, 10};
    expect(b.size() >= 8 && std::equal(signature, signature + 8, b.begin()), "png: no PNG signature");
    DecodedPng png;
    std::vector<std::uint8_t> idat;
    std::size_t at = 8;
    bool ihdr = false, iend = false;
    while (at < b.size()) {
        expect(!iend, "png: data after IEND");
        expect(at + 12 <= b.size(), "png: truncated chunk header");
        const std::uint32_t length = be32(b, at);
        expect(at + 12 + length <= b.size(), "png: truncated chunk");
        const std::string type(b.begin() + long(at) + 4, b.begin() + long(at) + 8);
        const std::uint8_t* data = b.data() + at + 8;
        const auto crc = std::uint32_t(crc32(crc32(0L, Z_NULL, 0), b.data() + at + 4, uInt(4 + length)));
        expect(crc == be32(b, at + 8 + length), "png: CRC mismatch in chunk " + type);
        expect(ihdr || type == "IHDR", "png: first chunk is " + type + ", not IHDR");
        if (type == "IHDR") {
            expect(!ihdr && length == 13, "png: bad or repeated IHDR");
            ihdr = true;
            png.width = int(be32(b, at + 8));
            png.height = int(be32(b, at + 12));
            // 8-bit RGB, deflate, adaptive filtering, no interlace.
            expect(data[8] == 8 && data[9] == 2 && data[10] == 0 && data[11] == 0 && data[12] == 0,
                   "png: not 8-bit RGB without interlace");
        } else if (type == "IDAT") {
            idat.insert(idat.end(), data, data + length);
        } else if (type == "IEND") {
            expect(length == 0, "png: IEND with data");
            iend = true;
        }
        at += 12 + length;
    }
    expect(iend, "png: no IEND");
    expect(png.width > 0 && png.height > 0, "png: empty image");
    const std::size_t stride = 1 + 3 * std::size_t(png.width);
    const std::size_t expected = std::size_t(png.height) * stride;
    std::vector<std::uint8_t> raw(expected);
    uLongf raw_size = uLongf(expected);
    // Z_BUF_ERROR if the stream holds more than `expected`; a shorter stream gives a smaller raw_size.
    expect(uncompress(raw.data(), &raw_size, idat.data(), uLong(idat.size())) == Z_OK, "png: IDAT does not inflate");
    expect(raw_size == expected,
           "png: IDAT inflates to " + std::to_string(raw_size) + " bytes, not " + std::to_string(expected));

    png.rgb.resize(std::size_t(png.height) * std::size_t(png.width) * 3);
    const std::size_t row_bytes = 3 * std::size_t(png.width);
    for (std::size_t y = 0; y < std::size_t(png.height); ++y) {
        const std::uint8_t filter = raw[y * stride];
        expect(filter <= 4, "png: unknown filter " + std::to_string(filter));
        const std::uint8_t* in = raw.data() + y * stride + 1;
        std::uint8_t* out = png.rgb.data() + y * row_bytes;
        const std::uint8_t* up = y ? out - row_bytes : nullptr;
        for (std::size_t i = 0; i < row_bytes; ++i) {
            const int a = i >= 3 ? out[i - 3] : 0, u = up ? up[i] : 0, c = (up && i >= 3) ? up[i - 3] : 0;
            const int pred = filter == 0   ? 0
                             : filter == 1 ? a
                             : filter == 2 ? u
                             : filter == 3 ? (a + u) / 2
                                           : paeth(a, u, c);
            out[i] = std::uint8_t(in[i] + pred);
        }
    }
    return png;
}

DecodedPng read_png(const std::string& path) { return decode_png(io::read_file_bytes(path)); }

std::string read_text(const std::string& path) {
    const auto bytes = io::read_file_bytes(path);
    return std::string(bytes.begin(), bytes.end());
}

bool is_red(plot::Rgb c) { return c.r >= 180 && c.g <= 80 && c.b <= 80; }

// ---- SVG: a small well-formedness checker -------------------------------------------------------

struct XmlElement {
    std::string name;
    std::map<std::string, std::string> attributes;
    std::string text;  // character data directly inside, entities left as written
};

void check_character_data(const std::string& s) {
    static const std::regex entity("&(amp|lt|gt|quot|apos|#[0-9]+);");
    for (std::size_t i = 0; i < s.size(); ++i) {
        expect(s[i] != '<', "xml: '<' in character data: " + s);
        if (s[i] == '&') {
            std::smatch m;
            const std::string rest = s.substr(i);
            expect(std::regex_search(rest, m, entity, std::regex_constants::match_continuous),
                   "xml: '&' that starts no entity: " + s);
        }
    }
}

// Every tag closed in order, attributes name="value" once each, text and
// values with nothing but known entities, a single root; returns the
// elements in document order.
std::vector<XmlElement> parse_xml(const std::string& doc) {
    std::vector<XmlElement> elements;
    std::vector<std::size_t> open;
    std::size_t at = 0, roots = 0;
    if (doc.compare(0, 5, "<?xml") == 0) at = doc.find("?>") + 2;
    auto is_name = [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == ':';
    };
    auto char_at = [&](std::size_t i) {
        expect(i < doc.size(), "xml: the document ends inside a tag");
        return doc[i];
    };
    while (at < doc.size()) {
        const std::size_t lt = doc.find('<', at);
        const std::string text = doc.substr(at, lt == std::string::npos ? std::string::npos : lt - at);
        check_character_data(text);
        if (open.empty()) expect(text.find_first_not_of(" \n") == std::string::npos, "xml: text outside the root");
        else elements[open.back()].text += text;
        if (lt == std::string::npos) break;
        at = lt + 1;
        if (char_at(at) == '/') {
            const std::size_t gt = doc.find('>', at);
            expect(gt != std::string::npos, "xml: unterminated end tag");
            expect(!open.empty(), "xml: end tag without a start tag");
            const std::string name = doc.substr(at + 1, gt - at - 1);
            expect(name == elements[open.back()].name,
                   "xml: </" + name + "> closes <" + elements[open.back()].name + ">");
            open.pop_back();
            at = gt + 1;
            continue;
        }
        XmlElement e;
        while (is_name(char_at(at))) e.name += doc[at++];
        expect(!e.name.empty(), "xml: a tag without a name");
        for (;;) {
            while (char_at(at) == ' ' || doc[at] == '\n') ++at;
            if (doc[at] == '/' || doc[at] == '>') break;
            std::string name;
            while (is_name(char_at(at))) name += doc[at++];
            expect(!name.empty(), "xml: junk in <" + e.name + ">");
            expect(doc.compare(at, 2, "=\"") == 0, "xml: attribute " + name + " without =\"value\"");
            const std::size_t end = doc.find('"', at + 2);
            expect(end != std::string::npos, "xml: unterminated value of " + name);
            const std::string value = doc.substr(at + 2, end - at - 2);
            check_character_data(value);
            expect(e.attributes.emplace(name, value).second, "xml: attribute " + name + " repeated");
            at = end + 1;
        }
        if (open.empty()) ++roots;
        elements.push_back(e);
        if (doc[at] == '/') {
            expect(char_at(at + 1) == '>', "xml: '/' not followed by '>'");
            at += 2;
        } else {
            open.push_back(elements.size() - 1);
            ++at;
        }
    }
    expect(open.empty(), "xml: unclosed elements at the end");
    expect(roots == 1, "xml: " + std::to_string(roots) + " root elements");
    return elements;
}

std::vector<std::pair<double, double>> svg_points(const std::string& points) {
    std::vector<std::pair<double, double>> out;
    std::istringstream in(points);
    std::string pair;
    while (in >> pair) {
        const auto comma = pair.find(',');
        expect(comma != std::string::npos, "svg: point without a comma: " + pair);
        out.emplace_back(std::stod(pair.substr(0, comma)), std::stod(pair.substr(comma + 1)));
    }
    return out;
}

// ---- data --------------------------------------------------------------------------------------

// n images (n, 1, 28, 28), each black at (14, 14) and a fainter bar whose row
// depends on the image, so tiles differ.
Tensor<float> fake_digits(Index n) {
    Tensor<float> x(Shape{n, 1, 28, 28}, 0.0f);
    for (Index i = 0; i < n; ++i) {
        float* img = x.data() + i * 784;
        for (Index c = 4; c < 24; ++c) img[(4 + i % 20) * 28 + c] = 0.5f;
        img[14 * 28 + 14] = 2.0f;  // not in [0, 1]: each tile is scaled by its own maximum
    }
    return x;
}

Tensor<std::int32_t> ids(std::initializer_list<std::int32_t> v) {
    return Tensor<std::int32_t>(Shape{Index(v.size())}, v);
}

History fake_history(int epochs, bool validation) {
    History h;
    for (int e = 0; e < epochs; ++e) {
        h.epoch.push_back(e);
        h.history["loss"].push_back(1.0 / (e + 1));
        h.history["accuracy"].push_back(0.8 + 0.04 * e);
        if (validation) {
            h.history["val_loss"].push_back(1.1 / (e + 1));
            h.history["val_accuracy"].push_back(0.78 + 0.035 * e);
        }
    }
    return h;
}

}  // namespace

TEST_CASE("font: every printable glyph but space has ink, and all differ", "[plot]") {
    std::set<plot::Glyph> seen;
    for (char c = plot::Font::first; c <= plot::Font::last; ++c) {
        int ink = 0;
        for (int y = 0; y < plot::Font::glyph_height; ++y)
            for (int x = 0; x < plot::Font::glyph_width; ++x) ink += plot::glyph_pixel(c, x, y);
        INFO("character '" << c << "'");
        if (c == ' ') CHECK(ink == 0);
        else CHECK(ink > 0);
        for (std::uint8_t row : plot::glyph(c)) CHECK(row < 32);  // 5 columns
        CHECK(seen.insert(plot::glyph(c)).second);
    }
    CHECK(plot::glyph('\x01') == plot::glyph('?'));
    CHECK(plot::glyph(char(200)) == plot::glyph('?'));
    CHECK(plot::text_width("7>1", 2) == (3 * 6 - 1) * 2);
    CHECK(plot::text_width("") == 0);

    plot::Canvas c(40, 12);
    c.text(1, 1, "A", plot::colors::black, 1);
    // 'A': top row .###., middle row #####.
    CHECK(c.pixel(1, 1) == plot::colors::white);
    CHECK(c.pixel(2, 1) == plot::colors::black);
    for (int x = 1; x <= 5; ++x) CHECK(c.pixel(x, 4) == plot::colors::black);
}

TEST_CASE("PNG: a canvas round-trips through encode_png pixel for pixel", "[plot]") {
    plot::Canvas c(37, 23);
    for (int y = 0; y < c.height(); ++y)
        for (int x = 0; x < c.width(); ++x)
            c.set(x, y, {std::uint8_t(x * 7), std::uint8_t(y * 11), std::uint8_t((x * y) % 251)});
    c.line(0, 0, 36, 22, plot::colors::red, 2.5);
    const DecodedPng png = decode_png(plot::encode_png(c));
    CHECK(png.width == 37);
    CHECK(png.height == 23);
    CHECK(png.rgb == c.pixels());

    // The checker itself rejects what a broken encoder would write.
    const auto good = plot::encode_png(c);
    auto flipped = good;
    flipped[good.size() / 2] ^= 1;  // inside IDAT
    CHECK_THROWS_WITH(decode_png(flipped), Catch::Contains("CRC mismatch in chunk IDAT"));
    CHECK_THROWS_WITH(decode_png(std::vector<std::uint8_t>(good.begin(), good.end() - 12)), Catch::Contains("no IEND"));
    auto wider = good;
    wider[19] += 1;  // IHDR width + 1, CRC recomputed: the pixel data is now one column short per row
    const auto ihdr_crc = std::uint32_t(crc32(crc32(0L, Z_NULL, 0), wider.data() + 12, 17));
    for (int k = 0; k < 4; ++k) wider[29 + std::size_t(k)] = std::uint8_t(ihdr_crc >> (24 - 8 * k));
    CHECK_THROWS_WITH(decode_png(wider), Catch::Contains("IDAT"));

    REQUIRE_THROWS_MATCHES(plot::Canvas(0, 10), ConfigError, test::error(ErrorId::config_argument, {"0 x 10"}));
    REQUIRE_THROWS_MATCHES(plot::Canvas(16384, 16384), ConfigError, test::error(ErrorId::config_argument));
}

TEST_CASE("plot_digits: tiles scaled per image, misclassified ones framed in red", "[plot]") {
    test::TempDir dir("plot");
    const auto x = fake_digits(12);
    const auto truth = ids({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1});
    const auto guess = ids({0, 1, 7, 3, 4, 5, 6, 7, 8, 9, 0, 1});  // image 2: a 2 taken for a 7
    const std::string path = dir.file("digits.png");
    plot::plot_digits(path, x, truth, guess, 5);
    const DecodedPng png = read_png(path);

    const auto g = plot::digit_grid_layout(12, 5, 28, 28, 2, 3, true);
    REQUIRE(png.width == g.width());
    REQUIRE(png.height == g.height());
    CHECK(g.rows == 3);
    for (int k = 0; k < 12; ++k) {
        INFO("tile " << k);
        // The brightest pixel (14, 14) is black, the empty corner white.
        CHECK(png.at(g.tile_x(k) + 28, g.tile_y(k) + 28) == plot::colors::black);
        CHECK(png.at(g.tile_x(k) + 1, g.tile_y(k) + 1) == plot::colors::white);
        // The frame's four sides, just outside the tile.
        const plot::Rgb sides[] = {
            png.at(g.tile_x(k) - 1, g.tile_y(k) + 28), png.at(g.tile_x(k) + g.tile_w, g.tile_y(k) + 28),
            png.at(g.tile_x(k) + 28, g.tile_y(k) - 1), png.at(g.tile_x(k) + 28, g.tile_y(k) + g.tile_h)};
        for (const auto& s : sides) CHECK(is_red(s) == (k == 2));
    }
    // Red appears nowhere outside tile 2's cell.
    int red_outside = 0, red_inside = 0;
    for (int y = 0; y < png.height; ++y)
        for (int xx = 0; xx < png.width; ++xx) {
            if (!is_red(png.at(xx, y))) continue;
            const bool inside =
                xx >= g.cell_x(2) && xx < g.cell_x(2) + g.cell_w && y >= g.cell_y(2) && y < g.cell_y(2) + g.cell_h;
            ++(inside ? red_inside : red_outside);
        }
    CHECK(red_outside == 0);
    CHECK(red_inside > 4 * g.tile_w);  // frame + "2>7"

    // Without predictions: no header, no red at all.
    plot::plot_digits(path, x, truth, 4);
    const DecodedPng plain = read_png(path);
    const auto g2 = plot::digit_grid_layout(12, 4, 28, 28, 2, 1, false);
    CHECK(plain.width == g2.width());
    CHECK(plain.height == g2.height());
    int red = 0;
    for (std::size_t i = 0; i < plain.rgb.size(); i += 3)
        red += is_red({plain.rgb[i], plain.rgb[i + 1], plain.rgb[i + 2]});
    CHECK(red == 0);

    // `which` picks and orders; flat (N, 784) images are 28 x 28.
    Tensor<float> flat = x;
    flat.reshape(Shape{12, 784});
    plot::plot_digits(path, flat, truth, guess, std::vector<Index>{2, 0}, 10);
    const DecodedPng two = read_png(path);
    const auto g3 = plot::digit_grid_layout(2, 10, 28, 28, 2, 3, true);
    CHECK(two.width == g3.width());
    CHECK(is_red(two.at(g3.tile_x(0) - 1, g3.tile_y(0) + 28)));
    CHECK_FALSE(is_red(two.at(g3.tile_x(1) - 1, g3.tile_y(1) + 28)));
}

TEST_CASE("digits_to_show: up to half the grid is the first mistakes, in index order", "[plot]") {
    const auto truth = ids({0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
    const auto guess = ids({0, 9, 2, 9, 4, 9, 9, 7, 8, 9});  // wrong: 1, 3, 5, 6
    CHECK(plot::digits_to_show(truth, guess, 4) == std::vector<Index>{0, 1, 2, 3});
    CHECK(plot::digits_to_show(truth, guess, 6) == std::vector<Index>{0, 1, 2, 3, 4, 5});
    CHECK(plot::digits_to_show(truth, guess, 100).size() == 10);
    // Too few correct ones (4 and 5): mistakes fill the rest.
    const auto mostly_wrong = ids({1, 1, 1, 1, 0, 0});
    CHECK(plot::digits_to_show(ids({0, 0, 0, 0, 0, 0}), mostly_wrong, 5) == std::vector<Index>{0, 1, 2, 4, 5});
    CHECK(plot::digits_to_show(ids({0, 0, 0}), ids({1, 1, 1}), 2) == std::vector<Index>{0, 1});
    REQUIRE_THROWS_MATCHES(plot::digits_to_show(truth, ids({0}), 4), ShapeError,
                           test::error(ErrorId::shape_count, {"10 labels but 1 predicted"}));
}

TEST_CASE("plot_digits: bad arguments are precise errors", "[plot]") {
    test::TempDir dir("plot");
    const std::string path = dir.file("d.png");
    const auto x = fake_digits(3);
    REQUIRE_THROWS_MATCHES(plot::plot_digits(path, x, ids({1, 2})), ShapeError,
                           test::error(ErrorId::shape_count, {"plot_digits: 3 images but 2 labels"}));
    REQUIRE_THROWS_MATCHES(plot::plot_digits(path, x, ids({1, 2, 3}), ids({1, 2})), ShapeError,
                           test::error(ErrorId::shape_count, {"3 images but 2 predicted labels"}));
    REQUIRE_THROWS_MATCHES(plot::plot_digits(path, x, ids({1, 2, 3}), Tensor<float>(Shape{3, 10}, 0.1f)), ShapeError,
                           test::error(ErrorId::shape_rank, {"predicted", "(3, 10)", "argmax"}));
    REQUIRE_THROWS_MATCHES(plot::plot_digits(path, x, ids({1, -4, 3})), ConfigError,
                           test::error(ErrorId::config_label, {"labels[1] = -4"}));
    REQUIRE_THROWS_MATCHES(plot::plot_digits(path, x, Tensor<float>(Shape{3}, {1.0f, 2.5f, 3.0f})), ConfigError,
                           test::error(ErrorId::config_label, {"labels[1] = 2.5"}));
    REQUIRE_THROWS_MATCHES(plot::plot_digits(path, x, ids({1, 2, 3}), ids({1, 2, 3}), std::vector<Index>{0, 3}),
                           ShapeError, test::error(ErrorId::shape_index, {"which[1] = 3", "3 images"}));
    REQUIRE_THROWS_MATCHES(plot::plot_digits(path, Tensor<float>(Shape{3, 3, 28, 28}, 0.f), ids({1, 2, 3})), ShapeError,
                           test::error(ErrorId::shape_rank, {"greyscale", "(3, 3, 28, 28)"}));
    REQUIRE_THROWS_MATCHES(plot::plot_digits(path, Tensor<float>(Shape{3, 50}, 0.f), ids({1, 2, 3})), ShapeError,
                           test::error(ErrorId::shape_rank, {"square"}));
    REQUIRE_THROWS_MATCHES(plot::plot_digits(path, x, ids({1, 2, 3}), 0), ConfigError,
                           test::error(ErrorId::config_argument, {"columns"}));
    REQUIRE_THROWS_MATCHES(plot::plot_digits(path, fake_digits(1025), Tensor<std::int32_t>(Shape{1025}, 1)),
                           ConfigError, test::error(ErrorId::config_argument, {"1025 images", "1024"}));
    CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("plot_training_curves: SVG polylines hold one point per epoch; PNG of the same layout", "[plot]") {
    test::TempDir dir("plot");
    const History h = fake_history(4, true);
    const std::string svg_path = dir.file("curves.svg");
    plot::plot_training_curves(svg_path, h);
    const std::string svg = read_text(svg_path);
    const auto elements = parse_xml(svg);
    REQUIRE(elements.front().name == "svg");
    CHECK(elements.front().attributes.at("width") == std::to_string(2 * plot::panel_width));
    CHECK(elements.front().attributes.at("height") == std::to_string(plot::panel_height));
    CHECK(elements.front().attributes.at("xmlns") == "http://www.w3.org/2000/svg");

    std::map<std::string, std::vector<std::pair<double, double>>> series;
    std::vector<std::string> texts;
    for (std::size_t i = 0; i < elements.size(); ++i) {
        if (elements[i].name == "text") texts.push_back(elements[i].text);
        if (elements[i].name != "polyline" || elements[i].attributes.count("class") == 0) continue;
        REQUIRE(elements[i + 1].name == "title");
        series[elements[i + 1].text] = svg_points(elements[i].attributes.at("points"));
    }
    REQUIRE(series.size() == 4);
    for (const char* name : {"loss (train)", "loss (validation)", "accuracy (train)", "accuracy (validation)"}) {
        INFO(name);
        REQUIRE(series.count(name) == 1);
        const auto& pts = series[name];
        REQUIRE(pts.size() == 4);
        for (std::size_t e = 1; e < pts.size(); ++e) {
            CHECK(pts[e].first > pts[e - 1].first);  // epochs left to right
            // Loss falls and accuracy rises; SVG's y grows downwards.
            if (std::string(name).rfind("loss", 0) == 0) CHECK(pts[e].second > pts[e - 1].second);
            else CHECK(pts[e].second < pts[e - 1].second);
        }
    }
    // The same epoch lands at the same x in both panels' train and validation series.
    CHECK(series["loss (train)"][2].first == series["loss (validation)"][2].first);
    for (const char* t : {"loss", "accuracy", "epoch", "train", "validation", "1", "4"})
        CHECK(std::find(texts.begin(), texts.end(), t) != texts.end());

    const std::string png_path = dir.file("curves.PNG");
    plot::plot_training_curves(png_path, h);
    const DecodedPng png = read_png(png_path);
    CHECK(png.width == 2 * plot::panel_width);
    CHECK(png.height == plot::panel_height);
    // The markers' centres are the series colours exactly.
    const auto& first = series["loss (train)"][0];
    CHECK(png.at(int(first.first), int(first.second)) == plot::colors::blue);
    const auto& last = series["accuracy (validation)"][3];
    CHECK(png.at(int(last.first), int(last.second)) == plot::colors::orange);
}

TEST_CASE("plot_training_curves: one panel per quantity, non-finite values left out", "[plot]") {
    test::TempDir dir("plot");
    History h;
    h.epoch = {3, 4, 5};  // a resumed run: epochs 4..6
    h.history["loss"] = {0.5, std::numeric_limits<double>::quiet_NaN(), 0.3};
    const std::string path = dir.file("c.svg");
    plot::plot_training_curves(path, h);
    const auto elements = parse_xml(read_text(path));
    CHECK(elements.front().attributes.at("width") == std::to_string(plot::panel_width));
    std::vector<std::size_t> polylines;
    std::vector<std::string> texts;
    for (const auto& e : elements) {
        if (e.name == "polyline") polylines.push_back(svg_points(e.attributes.at("points")).size());
        if (e.name == "text") texts.push_back(e.text);
    }
    CHECK(polylines == std::vector<std::size_t>{2});
    CHECK(std::find(texts.begin(), texts.end(), "6") != texts.end());
    CHECK(std::find(texts.begin(), texts.end(), "3") == texts.end());

    plot::plot_training_curves(dir.file("c.png"), h);
    CHECK(read_png(dir.file("c.png")).width == plot::panel_width);
}

TEST_CASE("plot_training_curves: bad histories and extensions are errors", "[plot]") {
    test::TempDir dir("plot");
    REQUIRE_THROWS_MATCHES(plot::plot_training_curves(dir.file("c.png"), History{}), ConfigError,
                           test::error(ErrorId::config_argument, {"plot_training_curves", "no epochs"}));
    History h = fake_history(3, true);
    h.history["val_loss"].pop_back();
    REQUIRE_THROWS_MATCHES(plot::plot_training_curves(dir.file("c.png"), h), ConfigError,
                           test::error(ErrorId::config_argument, {"'val_loss' has 2 values for 3 epochs"}));
    REQUIRE_THROWS_MATCHES(plot::plot_training_curves(dir.file("c.jpg"), fake_history(2, false)), ConfigError,
                           test::error(ErrorId::config_argument, {"c.jpg", "'.jpg'", ".png or .svg"}));
    REQUIRE_THROWS_MATCHES(plot::plot_training_curves(dir.file("curves"), fake_history(2, false)), ConfigError,
                           test::error(ErrorId::config_argument, {"''"}));
}

TEST_CASE("SVG text is escaped and stays well-formed", "[plot]") {
    plot::Figure f;
    f.width = 100;
    f.height = 50;
    f.add(plot::Figure::Text{1, 1, "a<b & \"c\" 'd' >e \x01 \xc3\xa9", plot::colors::black, 1, plot::Anchor::Start});
    f.add(plot::Figure::Series{"<&>", {{1, 2}, {3, 4}}, plot::colors::blue});
    const std::string svg = plot::to_svg(f);
    const auto elements = parse_xml(svg);
    CHECK(svg.find("a&lt;b &amp; &quot;c&quot; &apos;d&apos; &gt;e ? ?"
                   "?</text>") != std::string::npos);
    CHECK(svg.find("<title>&lt;&amp;&gt;</title>") != std::string::npos);
    CHECK(elements.front().attributes.at("viewBox") == "0 0 100 50");

    CHECK_THROWS_WITH(parse_xml("<svg><g></svg></g>"), Catch::Contains("</svg> closes <g>"));
    CHECK_THROWS_WITH(parse_xml("<svg><text>a & b</text></svg>"), Catch::Contains("'&'"));
    CHECK_THROWS_WITH(parse_xml("<svg a=\"1\" a=\"2\"/>"), Catch::Contains("repeated"));
    CHECK_THROWS_WITH(parse_xml("<svg><g>"), Catch::Contains("unclosed"));
    CHECK_THROWS_WITH(parse_xml("<svg/><svg/>"), Catch::Contains("2 root"));
}

TEST_CASE("confusion_matrix: counts, table and heatmap", "[plot]") {
    test::TempDir dir("plot");
    const auto truth = ids({0, 1, 2, 2, 1, 0, 2});
    const auto guess = ids({0, 1, 2, 1, 1, 0, 0});
    const auto cm = plot::confusion_matrix(truth, guess);  // 3 classes, inferred
    REQUIRE(cm.shape() == Shape{3, 3});
    const std::vector<std::int64_t> expected = {2, 0, 0, 0, 2, 0, 1, 1, 1};
    CHECK(std::vector<std::int64_t>(cm.begin(), cm.end()) == expected);

    const std::string table = plot::confusion_table(cm);
    std::istringstream lines(table);
    std::string line;
    std::vector<std::string> rows;
    while (std::getline(lines, line)) rows.push_back(line);
    REQUIRE(rows.size() == 9);  // title, header, 3 classes, rule, total, precision, accuracy
    CHECK(std::regex_search(rows[4], std::regex(R"(^ +2 +1 +1 +1 \| +3 +33\.33%$)")));
    CHECK(std::regex_search(rows[6], std::regex(R"(^ +total +3 +3 +1 \| +7$)")));
    CHECK(std::regex_search(rows[7], std::regex(R"(^ +precision +66\.67% +66\.67% +100\.00%$)")));
    CHECK(rows[8] == "accuracy 71.43% (5 of 7)");
    // Columns line up: every class row and the header are as long as each other.
    for (int r = 2; r <= 4; ++r) CHECK(rows[std::size_t(r)].size() == rows[1].size());

    const std::string path = dir.file("confusion.png");
    plot::plot_confusion_matrix(path, cm);
    const DecodedPng png = read_png(path);
    const auto g = plot::confusion_layout(3, 2);
    CHECK(png.height == g.height);
    CHECK(png.width >= g.width);
    // A cell's corner (clear of the grid line and the count) shows its share of the row.
    auto corner = [&](Index t, Index p) { return png.at(g.cell_x(p) + 3, g.cell_y(t) + 3); };
    CHECK(corner(0, 0) == plot::blues(1.0));
    CHECK(corner(0, 1) == plot::colors::white);
    CHECK(corner(2, 2) == plot::blues(std::sqrt(1.0 / 3)));
    CHECK(corner(0, 0).r < corner(2, 2).r);
    CHECK(corner(2, 2).r < corner(1, 0).r);
    // The count in a dark cell is written in white.
    bool white_in_dark = false;
    for (int y = 0; y < g.cell; ++y)
        for (int x = 0; x < g.cell; ++x)
            white_in_dark = white_in_dark || png.at(g.cell_x(0) + x, g.cell_y(0) + y) == plot::colors::white;
    CHECK(white_in_dark);
}

TEST_CASE("confusion_matrix: class names label the table and the heatmap", "[plot]") {
    test::TempDir dir("plot");
    const auto cm = plot::confusion_matrix(ids({0, 1, 2, 2}), ids({0, 1, 2, 0}));
    const std::vector<std::string> names{"T-shirt/top", "Trouser", "Ankle boot"};
    const std::string table = plot::confusion_table(cm, names);
    std::istringstream lines(table);
    std::vector<std::string> rows;
    for (std::string line; std::getline(lines, line);) rows.push_back(line);
    REQUIRE(rows.size() == 9);
    CHECK(std::regex_search(rows[1],
                            std::regex(R"(^ +true\\pred +T-shirt/top +Trouser +Ankle boot \| +total +recall$)")));
    CHECK(std::regex_search(rows[4], std::regex(R"(^ +Ankle boot +1 +0 +1 \| +2 +50\.00%$)")));
    for (int r = 2; r <= 4; ++r) CHECK(rows[std::size_t(r)].size() == rows[1].size());

    const auto g = plot::confusion_layout(3, 2, names);
    CHECK(g.cell >= plot::text_width("T-shirt/top") + 6);
    CHECK(g.left > plot::text_width("T-shirt/top"));
    const std::string path = dir.file("named.png");
    plot::plot_confusion_matrix(path, cm, names);
    const DecodedPng png = read_png(path);
    CHECK(png.height == g.height);
    CHECK(png.width >= g.width);

    REQUIRE_THROWS_MATCHES(plot::confusion_table(cm, {"a", "b"}), ConfigError,
                           test::error(ErrorId::config_argument, {"2 class names", "3 classes"}));
    REQUIRE_THROWS_MATCHES(plot::plot_confusion_matrix(dir.file("x.png"), cm, {"a"}), ConfigError,
                           test::error(ErrorId::config_argument, {"1 class names"}));
}

TEST_CASE("confusion_matrix: bad labels are precise errors", "[plot]") {
    REQUIRE_THROWS_MATCHES(plot::confusion_matrix(ids({0, 1}), ids({0}), 2), ShapeError,
                           test::error(ErrorId::shape_count, {"2 labels but 1 predicted"}));
    REQUIRE_THROWS_MATCHES(plot::confusion_matrix(ids({0, 1, 2}), ids({0, 1, 3}), 3), ConfigError,
                           test::error(ErrorId::config_label, {"predicted[2] = 3 is outside [0, 3)"}));
    REQUIRE_THROWS_MATCHES(plot::confusion_matrix(ids({0, 10}), ids({0, 1}), 10), ConfigError,
                           test::error(ErrorId::config_label, {"labels[1] = 10 is outside [0, 10)"}));
    REQUIRE_THROWS_MATCHES(plot::confusion_matrix(ids({0}), ids({0}), 0), ConfigError,
                           test::error(ErrorId::config_argument, {"num_classes"}));
    REQUIRE_THROWS_MATCHES(plot::confusion_matrix(ids({}), ids({})), ConfigError,
                           test::error(ErrorId::config_argument, {"infer"}));
    REQUIRE_THROWS_MATCHES(plot::confusion_table(Tensor<std::int64_t>(Shape{2, 3}, 0)), ShapeError,
                           test::error(ErrorId::shape_rank, {"(2, 3)"}));
    REQUIRE_THROWS_MATCHES(plot::draw_confusion_matrix(Tensor<std::int64_t>(Shape{101, 101}, 0)), ConfigError,
                           test::error(ErrorId::config_argument, {"101 classes"}));
}

TEST_CASE("plot_first_layer_weights: Dense units as 28x28 tiles, Conv2D filters, sign as colour", "[plot]") {
    test::TempDir dir("plot");
    Sequential<float> mlp("mlp", 1);
    mlp.add(Flatten());
    mlp.add(Dense(3));
    mlp.add(Dense(2));
    mlp.build(Shape{1, 28, 28});
    auto w = mlp.get_weights();
    for (Index i = 0; i < 784; ++i) {
        w[0](i, 0) = 1.0f;                         // all positive: red
        w[0](i, 1) = -3.0f;                        // all negative: blue, whatever its size
        w[0](i, 2) = i % 28 < 14 ? 0.5f : -0.25f;  // left full red, right half blue
    }
    mlp.set_weights(w);
    const std::string path = dir.file("weights.png");
    plot::plot_first_layer_weights(path, mlp);
    const DecodedPng png = read_png(path);
    const auto g = plot::weight_tiles_layout(3, 1, 28, 28);
    CHECK(g.scale == 2);
    CHECK(png.height == g.height());
    CHECK(png.width >= g.width());
    CHECK(png.at(g.tile_x(0, 0) + 30, g.tile_y(0) + 30) == plot::diverging(1.0));
    CHECK(png.at(g.tile_x(1, 0) + 30, g.tile_y(1) + 30) == plot::diverging(-1.0));
    CHECK(png.at(g.tile_x(2, 0) + 5, g.tile_y(2) + 30) == plot::diverging(1.0));
    CHECK(png.at(g.tile_x(2, 0) + 50, g.tile_y(2) + 30) == plot::diverging(-0.5));
    CHECK(png.at(g.tile_x(0, 0) - 1, g.tile_y(0)) == plot::colors::grey);

    Sequential<float> cnn("cnn", 1);
    cnn.add(Conv2D(4, 3));
    cnn.add(Flatten());
    cnn.add(Dense(2));
    cnn.build(Shape{2, 8, 8});
    auto cw = cnn.get_weights();
    cw[0].fill(0.0f);
    cw[0][((1 * 2 + 1) * 3 + 0) * 3 + 2] = -2.0f;  // filter 1, channel 1, row 0, column 2
    cw[0][((1 * 2 + 1) * 3 + 2) * 3 + 0] = 1.0f;   // filter 1, channel 1, row 2, column 0
    cnn.set_weights(cw);
    plot::plot_first_layer_weights(path, cnn);
    const DecodedPng conv = read_png(path);
    const auto gc = plot::weight_tiles_layout(4, 2, 3, 3);
    CHECK(gc.scale == 16);  // 56 / 3, capped
    CHECK(conv.height == gc.height());
    const int x = gc.tile_x(1, 1), y = gc.tile_y(1), s = gc.scale;
    CHECK(conv.at(x + 2 * s + s / 2, y + s / 2) == plot::diverging(-1.0));
    CHECK(conv.at(x + s / 2, y + 2 * s + s / 2) == plot::diverging(0.5));
    CHECK(conv.at(x + s + s / 2, y + s + s / 2) == plot::colors::white);
    CHECK(conv.at(gc.tile_x(1, 0) + 1, y + 1) == plot::colors::white);  // channel 0 of filter 1: all zero
}

TEST_CASE("plot_weights: layers without image weights are errors", "[plot]") {
    test::TempDir dir("plot");
    Sequential<float> unbuilt;
    unbuilt.add(Dense(3));
    REQUIRE_THROWS_MATCHES(plot::plot_first_layer_weights(dir.file("w.png"), unbuilt), ConfigError,
                           test::error(ErrorId::config_state, {"not built"}));
    Sequential<float> m("m", 1);
    m.add(Flatten());
    m.add(Dense(3));
    m.build(Shape{50});
    REQUIRE_THROWS_MATCHES(plot::plot_weights(dir.file("w.png"), m.layer(0)), ConfigError,
                           test::error(ErrorId::config_argument, {"Flatten", "Dense and Conv2D"}));
    REQUIRE_THROWS_MATCHES(plot::plot_first_layer_weights(dir.file("w.png"), m), ShapeError,
                           test::error(ErrorId::shape_mismatch, {"50 inputs", "Shape{1, 28, 28}"}));
    REQUIRE_THROWS_MATCHES(plot::plot_weights(dir.file("w.png"), m.layer(1), Shape{1, 7, 7}), ShapeError,
                           test::error(ErrorId::shape_mismatch, {"(1, 7, 7)", "50 inputs"}));
    plot::plot_weights(dir.file("w.png"), m.layer(1), Shape{5, 10});
    const DecodedPng png = read_png(dir.file("w.png"));
    const auto g = plot::weight_tiles_layout(3, 1, 5, 10);
    CHECK(png.height == g.height());
    CHECK(g.tile_w == 50);  // 10 columns at scale 5: the (H, W) given, not a square guess

    // Many tiles are drawn at half the size.
    CHECK(plot::weight_tiles_layout(64, 1, 28, 28).scale == 2);
    CHECK(plot::weight_tiles_layout(65, 1, 28, 28).scale == 1);
}

TEST_CASE("plot_model: a DOT node per layer after the input, edges in order, names escaped", "[plot]") {
    test::TempDir dir("plot");
    Sequential<float> m("my \"model\"", 1);
    m.add(Flatten());
    m.add(Dense(5, Activation::ReLU).named("a\"b\\c"));
    m.add(Dense(2));
    const std::string path = dir.file("model.dot");
    REQUIRE_THROWS_MATCHES(plot::plot_model(m, path), ConfigError, test::error(ErrorId::config_state, {"not built"}));
    m.build(Shape{1, 28, 28});
    plot::plot_model(m, path);
    const std::string dot = read_text(path);
    CHECK(dot.rfind("digraph \"my \\\"model\\\"\" {\n", 0) == 0);
    CHECK(dot.substr(dot.size() - 2) == "}\n");
    const std::regex node(R"(\n  (input|layer_\d+) \[label=")"), edge(R"(\n  (input|layer_\d+) -> (layer_\d+);)");
    const auto count = [&](const std::regex& r) {
        return std::distance(std::sregex_iterator(dot.begin(), dot.end(), r), std::sregex_iterator());
    };
    CHECK(count(node) == 4);  // input + 3 layers
    CHECK(count(edge) == 3);
    CHECK(dot.find("  input -> layer_0;\n  layer_0 -> layer_1;\n  layer_1 -> layer_2;\n") != std::string::npos);
    CHECK(dot.find("label=\"a\\\"b\\\\c (Dense)\\ninput: (None, 784)\\noutput: (None, 5)\\nparams: 3,925\"") !=
          std::string::npos);
    CHECK(dot.find("input\\n(None, 1, 28, 28)") != std::string::npos);
    // Quotes inside labels are all escaped: unescaped ones pair up on every line.
    std::istringstream lines(dot);
    std::string line;
    while (std::getline(lines, line)) {
        const std::string unescaped = std::regex_replace(line, std::regex(R"(\\.)"), "");
        CHECK(std::count(unescaped.begin(), unescaped.end(), '"') % 2 == 0);
    }
}

TEST_CASE("plots: writing into a missing directory throws io_write naming the path", "[plot]") {
    test::TempDir dir("plot");
    const std::string missing = dir.file("no/such/dir");
    const auto x = fake_digits(2);
    const auto y = ids({1, 2});
    Sequential<float> m("m", 1);
    m.add(Flatten());
    m.add(Dense(2));
    m.build(Shape{1, 28, 28});
    const auto cm = plot::confusion_matrix(y, y, 3);
    auto fails = [&](const std::string& file, const std::function<void(const std::string&)>& write) {
        const std::string path = missing + "/" + file;
        INFO(path);
        REQUIRE_THROWS_MATCHES(write(path), IoError, test::error(ErrorId::io_write, {path}));
    };
    fails("digits.png", [&](const std::string& p) { plot::plot_digits(p, x, y); });
    fails("curves.png", [&](const std::string& p) { plot::plot_training_curves(p, fake_history(2, true)); });
    fails("curves.svg", [&](const std::string& p) { plot::plot_training_curves(p, fake_history(2, true)); });
    fails("confusion.png", [&](const std::string& p) { plot::plot_confusion_matrix(p, cm); });
    fails("confusion.txt", [&](const std::string& p) { plot::write_file(p, plot::confusion_table(cm)); });
    fails("weights.png", [&](const std::string& p) { plot::plot_first_layer_weights(p, m); });
    fails("model.dot", [&](const std::string& p) { plot::plot_model(m, p); });
    CHECK_FALSE(std::filesystem::exists(dir.file("no")));
}
