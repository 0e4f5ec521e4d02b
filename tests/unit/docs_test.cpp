// The documentation names what the code defines: every event type in docs/events.md, every
// setting in the README's configuration table, and nothing that does not exist.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "domain/upcasters.h"
#include "infra/config.h"

namespace {

namespace fs = std::filesystem;

const fs::path kSourceDir = TIDEMARK_SOURCE_DIR;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot read " << path;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

/// The lines under the Markdown heading `heading` (exactly that line), up to the next heading
/// of any level; empty when there is no such heading.
std::vector<std::string> section(const std::string& markdown, const std::string& heading) {
  std::vector<std::string> lines = lines_of(markdown);
  auto start = std::find(lines.begin(), lines.end(), heading);
  if (start == lines.end()) return {};
  std::vector<std::string> body;
  bool in_code = false;
  for (auto line = start + 1; line != lines.end(); ++line) {
    if (line->starts_with("```")) in_code = !in_code;
    if (!in_code && line->starts_with("#")) break;
    body.push_back(*line);
  }
  return body;
}

/// The names in backticks in the first cell of each table row among `lines`
/// (`| \`a\` / \`b\` | … |` gives a and b).
std::vector<std::string> first_cell_names(const std::vector<std::string>& lines) {
  static const std::regex code("`([^`]+)`");
  std::vector<std::string> names;
  for (const auto& line : lines) {
    if (!line.starts_with("| ")) continue;
    auto end = line.find(" |", 1);
    std::string cell = line.substr(2, end == std::string::npos ? std::string::npos : end - 2);
    for (std::sregex_iterator match(cell.begin(), cell.end(), code), done; match != done; ++match) {
      names.push_back((*match)[1].str());
    }
  }
  return names;
}

/// Every versioned event type written out in `text` (`tidemark.AGGREGATE.EVENT.vN`).
std::set<std::string> event_types_in(const std::string& text) {
  static const std::regex type(R"(tidemark\.[a-z_]+\.[a-z_]+\.v[0-9]+)");
  std::set<std::string> found;
  for (std::sregex_iterator match(text.begin(), text.end(), type), done; match != done; ++match) {
    found.insert(match->str());
  }
  return found;
}

std::set<std::string> known_event_types() {
  std::set<std::string> known;
  for (auto type : tidemark::domain::all_event_types()) known.emplace(type);
  return known;
}

/// Each setting of every command, with the commands that take it.
std::map<std::string, std::vector<std::string>> all_settings() {
  std::map<std::string, std::vector<std::string>> settings;
  for (const auto& [command, make_schema] : tidemark::infra::command_schemas()) {
    tidemark::infra::SettingsSchema schema = make_schema();
    for (const auto& entry : schema.entries()) {
      settings[entry.name].emplace_back(command);
    }
  }
  return settings;
}

std::vector<std::string> configuration_table() {
  return section(read_file(kSourceDir / "README.md"), "## Commands and configuration");
}

}  // namespace

TEST(Docs, TheListOfEventTypesHasEveryTypeTheDomainDefines) {
  std::set<std::string> known = known_event_types();
  EXPECT_EQ(known.size(), tidemark::domain::all_event_types().size()) << "a type is listed twice";
  std::size_t headers = 0;
  for (const auto& file : fs::directory_iterator(kSourceDir / "domain")) {
    if (file.path().extension() != ".h") continue;
    ++headers;
    for (const auto& type : event_types_in(read_file(file.path()))) {
      EXPECT_TRUE(known.contains(type))
          << type << " (" << file.path().filename().string()
          << ") is missing from domain::all_event_types() (domain/upcasters.cpp)";
    }
  }
  EXPECT_GT(headers, 5u);
}

TEST(Docs, TheEventCatalogDescribesEveryEventType) {
  std::string catalog = read_file(kSourceDir / "docs" / "events.md");
  std::vector<std::string> rows = first_cell_names(section(catalog, "## Event types"));
  std::set<std::string> summary(rows.begin(), rows.end());
  std::set<std::string> headings;
  for (const auto& line : lines_of(catalog)) {
    if (line.starts_with("### `") && line.ends_with("`"))
      headings.insert(line.substr(5, line.size() - 6));
  }
  for (auto type : tidemark::domain::all_event_types()) {
    std::string name(type);
    EXPECT_TRUE(summary.contains(name))
        << name << " is missing from the table under '## Event types' in docs/events.md";
    EXPECT_TRUE(headings.contains(name))
        << name << " has no section '### `" << name << "`' with its fields in docs/events.md";
  }
}

TEST(Docs, TheDocumentationNamesNoEventTypeThatDoesNotExist) {
  std::set<std::string> known = known_event_types();
  for (const char* document : {"README.md", "docs/events.md", "docs/architecture.md",
                               "docs/architecture-notes.md", "docs/adding-a-model.md"}) {
    for (const auto& type : event_types_in(read_file(kSourceDir / document))) {
      EXPECT_TRUE(known.contains(type))
          << document << " names " << type << ", which domain::all_event_types() does not know";
    }
  }
}

TEST(Docs, TheConfigurationTableNamesEverySetting) {
  std::vector<std::string> rows = first_cell_names(configuration_table());
  std::set<std::string> table(rows.begin(), rows.end());
  ASSERT_FALSE(table.empty()) << "README.md has no table under '## Commands and configuration'";
  for (const auto& [name, commands] : all_settings()) {
    EXPECT_TRUE(table.contains(name)) << "setting " << name << " (tidemark " << commands.front()
                                      << ") is missing from the configuration table in README.md";
  }
}

TEST(Docs, TheConfigurationTableNamesOnlySettings) {
  auto settings = all_settings();
  for (const auto& name : first_cell_names(configuration_table())) {
    EXPECT_TRUE(settings.contains(name))
        << "README.md's configuration table names " << name << ", which no command takes";
  }
}
