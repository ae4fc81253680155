# Writes a C++ file holding every migration's name and text (see core/migrate.hpp).
set(body "#include \"core/migrate.hpp\"\nnamespace timepool::schema {\nconst std::vector<Migration>& embedded_migrations() {\n  static const std::vector<Migration> all = {\n")
foreach(f ${FILES})
  get_filename_component(name ${f} NAME)
  file(READ ${f} text)
  # A raw string with a delimiter no migration uses.
  string(APPEND body "    {\"${name}\", R\"tp_sql(${text})tp_sql\"},\n")
endforeach()
string(APPEND body "  };\n  return all;\n}\n}  // namespace timepool::schema\n")
file(WRITE ${OUT}.tmp "${body}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
