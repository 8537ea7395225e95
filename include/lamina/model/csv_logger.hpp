// lamina/model/csv_logger.hpp: Keras's CSVLogger callback.
//
// Contract: on_train_begin opens `filename` (truncating it, or with append
// adding to its end); the first epoch fixes the columns: "epoch", then the
// log keys in sorted order. The header row is written unless appending to a
// file that is not empty. Each epoch then adds one row: the epoch index as
// fit() gives it (0-based, as Keras writes it) and each value as Python's
// str() prints it (0.30000000000000004, 1e-05, nan), "NA" for a column the
// epoch's logs lack; keys that appear after the first epoch are not written,
// as in Keras. The file is flushed after every row, so a crash loses at most
// the epoch in progress, and closed at on_train_end. Fields holding the
// separator or a quote are quoted as Python's csv module does. Lines end in
// "\n" (Python's csv writes "\r\n"; CSV readers take either).
// A file that cannot be opened or written is IoError(io_write) naming it; a
// separator that cannot delimit a CSV field (a quote or a line break) is
// ConfigError(config_argument).
#pragma once

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lamina/core/error.hpp"
#include "lamina/model/callback.hpp"
#include "lamina/model/filepath_format.hpp"  // detail::python_str

namespace lamina {

class CSVLogger : public Callback {
public:
    explicit CSVLogger(std::string filename, char separator = ',', bool append = false)
        : filename_(std::move(filename)), separator_(separator), append_(append) {
        if (filename_.empty()) throw ConfigError(ErrorId::config_argument, "CSVLogger: filename must not be empty");
        if (separator == '"' || separator == '\n' || separator == '\r')
            throw ConfigError(ErrorId::config_argument, std::string("CSVLogger: separator cannot be ") +
                                                            (separator == '"' ? "'\"'" : "a line break") +
                                                            ": it would not delimit fields");
    }

    void on_train_begin(TrainingControl&, const Logs&) override {
        write_header_ = true;
        if (append_) {
            std::ifstream existing(filename_, std::ios::binary);
            // Keras checks the first line: an empty file still gets a header.
            if (existing && existing.peek() != std::ifstream::traits_type::eof()) write_header_ = false;
        }
        // Shared, so that copying a CSVLogger (into FitOptions::callbacks) stays possible.
        file_ =
            std::make_shared<std::ofstream>(filename_, std::ios::binary | (append_ ? std::ios::app : std::ios::trunc));
        if (!*file_) {
            const int err = errno;
            file_.reset();
            throw IoError(ErrorId::io_write, "CSVLogger: cannot open '" + filename_ +
                                                 "' for writing: " + (err ? std::strerror(err) : "unknown error"));
        }
        keys_.reset();
    }

    void on_epoch_end(TrainingControl&, int epoch, const Logs& logs) override {
        if (!file_)
            throw ConfigError(ErrorId::config_state,
                              "CSVLogger: on_epoch_end for '" + filename_ + "' before on_train_begin");
        if (!keys_) {
            keys_.emplace();
            for (const auto& [k, v] : logs) keys_->push_back(k);  // a std::map iterates in sorted order
            if (write_header_) {
                std::string header = "epoch";
                for (const auto& k : *keys_) header += separator_ + field(k);
                *file_ << header << '\n';
            }
        }
        std::string row = std::to_string(epoch);
        for (const auto& k : *keys_) {
            const auto it = logs.find(k);
            row += separator_ + field(it == logs.end() ? std::string("NA") : detail::python_str(it->second));
        }
        *file_ << row << '\n';
        file_->flush();
        if (!*file_) throw IoError(ErrorId::io_write, "CSVLogger: writing '" + filename_ + "' failed");
    }

    void on_train_end(TrainingControl&, const Logs&) override {
        if (!file_) return;
        file_->close();
        const bool ok = !file_->fail();
        file_.reset();
        if (!ok) throw IoError(ErrorId::io_write, "CSVLogger: closing '" + filename_ + "' failed");
    }

    const std::string& filename() const noexcept { return filename_; }

private:
    // Python's csv.QUOTE_MINIMAL: quote only what would otherwise split or break the field.
    std::string field(const std::string& s) const {
        if (s.find_first_of(std::string{separator_, '"', '\n', '\r'}) == std::string::npos) return s;
        std::string quoted = "\"";
        for (const char c : s) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
        return quoted + "\"";
    }

    std::string filename_;
    char separator_;
    bool append_;
    bool write_header_ = true;
    std::shared_ptr<std::ofstream> file_;
    std::optional<std::vector<std::string>> keys_;
};

}  // namespace lamina
