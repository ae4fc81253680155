// HTML output. Every piece of text that came from a user or the database goes through esc() or
// through a template's {{name}} (escaped); only HTML this program built itself may be inserted
// raw, with {{{name}}}.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace timepool::web {

// Escapes & < > " ' for use in element content and in quoted attribute values.
std::string esc(std::string_view text);

// Template variables: name -> value. Values for {{name}} are escaped when rendered; values
// for {{{name}}} are inserted as they are and must be HTML built by this program.
using Vars = std::map<std::string, std::string, std::less<>>;

// Replaces {{name}} with esc(vars[name]) and {{{name}}} with vars[name]. A name missing from
// `vars` is a programming error: throws std::logic_error (never reached with user input,
// which only ever appears in values, never in templates).
std::string render(std::string_view tmpl, const Vars& vars);

// <option> elements for a <select>: value/label pairs, the one equal to `selected` selected.
std::string options(const std::vector<std::pair<std::string, std::string>>& items,
                    std::string_view selected);

}  // namespace timepool::web
