# Debian packages with CPack: `cpack -G DEB` in a build folder makes
#   timepool-common   the system user, /etc/timepool/timepool.toml (a conffile), /var/lib/timepool,
#                     timepoolctl and the timepool-migrate unit
#   timepool-dns, timepool-monitor, timepool-monitor-api, timepool-web
#                     one daemon each, with its systemd unit
# Every program has a man page. The packages start and enable nothing: an operator configures
# /etc/timepool/timepool.toml first (deploy/OPERATIONS.md, "Debian packages").
# Tested by tests/integration/deploy/packages.sh (ctest -L package, as root).

set(TIMEPOOL_PKG_DIR ${CMAKE_SOURCE_DIR}/packaging)
set(pkg_out ${CMAKE_BINARY_DIR}/packaging)
file(MAKE_DIRECTORY ${pkg_out})

set(timepool_programs timepool-dns timepool-monitor timepool-monitor-api timepool-web timepoolctl)
# Hardening for what goes into a package (lintian checks for full RELRO and BIND_NOW).
foreach(prog ${timepool_programs})
  target_link_options(${prog} PRIVATE -Wl,-z,relro,-z,now)
endforeach()
# Component names are CPack variable names (no '-'): monitorapi is timepool-monitor-api.
set(timepool_components common dns monitor monitorapi web)
set(pkg_name_common timepool-common)
set(pkg_name_dns timepool-dns)
set(pkg_name_monitor timepool-monitor)
set(pkg_name_monitorapi timepool-monitor-api)
set(pkg_name_web timepool-web)

# Man pages, compressed as Debian wants them (gzip -n: no timestamp, reproducible).
set(man_outputs)
foreach(prog ${timepool_programs})
  set(in ${CMAKE_SOURCE_DIR}/man/${prog}.8)
  set(out ${pkg_out}/${prog}.8.gz)
  add_custom_command(OUTPUT ${out}
    COMMAND gzip -9nc ${in} > ${out}
    DEPENDS ${in} VERBATIM)
  list(APPEND man_outputs ${out})
endforeach()
add_custom_target(timepool_man ALL DEPENDS ${man_outputs})

# The units as packaged: programs in /usr/bin, documentation under /usr/share/doc.
foreach(unit timepool-dns timepool-monitor timepool-monitor-api timepool-web timepool-migrate)
  file(READ ${CMAKE_SOURCE_DIR}/deploy/systemd/${unit}.service text)
  string(REPLACE "/usr/local/bin/" "/usr/bin/" text "${text}")
  string(REPLACE "file:///usr/local/share/doc/timepool/OPERATIONS.md"
                 "man:${unit} file:///usr/share/doc/timepool-common/OPERATIONS.md" text "${text}")
  string(REPLACE "man:timepool-migrate " "man:timepoolctl " text "${text}")
  file(WRITE ${pkg_out}/${unit}.service "${text}")
endforeach()

# Per package: copyright and a compressed changelog in /usr/share/doc/<package>.
string(TIMESTAMP pkg_date "%a, %d %b %Y %H:%M:%S +0000" UTC)
foreach(comp ${timepool_components})
  set(pkg ${pkg_name_${comp}})
  configure_file(${TIMEPOOL_PKG_DIR}/debian/changelog.in ${pkg_out}/${pkg}/changelog @ONLY)
  add_custom_command(OUTPUT ${pkg_out}/${pkg}/changelog.Debian.gz
    COMMAND gzip -9nc ${pkg_out}/${pkg}/changelog > ${pkg_out}/${pkg}/changelog.Debian.gz
    DEPENDS ${pkg_out}/${pkg}/changelog VERBATIM)
  list(APPEND man_outputs ${pkg_out}/${pkg}/changelog.Debian.gz)
  install(FILES ${TIMEPOOL_PKG_DIR}/debian/copyright ${pkg_out}/${pkg}/changelog.Debian.gz
          DESTINATION share/doc/${pkg} EXCLUDE_FROM_ALL COMPONENT ${comp})
endforeach()
add_custom_target(timepool_pkg_docs ALL DEPENDS ${man_outputs})

# What each package installs. The targets are defined in their own folders; installing them
# here keeps the packaging in one place. EXCLUDE_FROM_ALL: a plain `cmake --install` (the
# source install in OPERATIONS.md) installs only the programs and never touches /etc or /var.
install(TARGETS timepoolctl RUNTIME DESTINATION bin EXCLUDE_FROM_ALL COMPONENT common)
install(FILES ${pkg_out}/timepoolctl.8.gz DESTINATION share/man/man8 EXCLUDE_FROM_ALL COMPONENT common)
install(FILES ${pkg_out}/timepool-migrate.service DESTINATION lib/systemd/system EXCLUDE_FROM_ALL COMPONENT common)
install(FILES ${CMAKE_SOURCE_DIR}/deploy/OPERATIONS.md DESTINATION share/doc/timepool-common
        EXCLUDE_FROM_ALL COMPONENT common)
install(FILES ${CMAKE_SOURCE_DIR}/deploy/timepool.toml DESTINATION share/doc/timepool-common
        RENAME timepool.toml.all-keys EXCLUDE_FROM_ALL COMPONENT common)
# 0644 in the package; postinst makes it 0640 root:timepool with dpkg-statoverride.
install(FILES ${CMAKE_SOURCE_DIR}/deploy/timepool.production.toml DESTINATION /etc/timepool
        RENAME timepool.toml EXCLUDE_FROM_ALL COMPONENT common)
install(DIRECTORY DESTINATION /var/lib/timepool EXCLUDE_FROM_ALL COMPONENT common)
foreach(comp dns monitor monitorapi web)
  set(prog ${pkg_name_${comp}})
  install(TARGETS ${prog} RUNTIME DESTINATION bin EXCLUDE_FROM_ALL COMPONENT ${comp})
  install(FILES ${pkg_out}/${prog}.8.gz DESTINATION share/man/man8 EXCLUDE_FROM_ALL COMPONENT ${comp})
  install(FILES ${pkg_out}/${prog}.service DESTINATION lib/systemd/system
          EXCLUDE_FROM_ALL COMPONENT ${comp})
endforeach()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME timepool)
set(CPACK_PACKAGE_VENDOR "timepool")
set(CPACK_PACKAGE_CONTACT "timepool maintainers <maintainers@timepool.invalid>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL ${timepool_components})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://timepool.invalid/")
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)

# CPack makes the first line the synopsis and indents the rest; an empty line separates
# paragraphs. Lines stay under 80 columns.
set(desc_tail "timepool runs a public NTP server pool: volunteers donate NTP servers,\nmonitors probe and score them, and an authoritative DNS server hands\nclients a few healthy, nearby servers. All programs share one PostgreSQL\ndatabase.\n")
set(CPACK_COMPONENT_COMMON_DESCRIPTION "NTP server pool - common files and timepoolctl\n${desc_tail}\nThis package has the system user, the configuration file, the state\nfolder, the timepoolctl command line and the schema migration unit.")
set(CPACK_COMPONENT_DNS_DESCRIPTION "NTP server pool - authoritative DNS server\n${desc_tail}\nThis package has timepool-dns, which answers the pool's names from the\ndatabase.")
set(CPACK_COMPONENT_MONITOR_DESCRIPTION "NTP server pool - monitor\n${desc_tail}\nThis package has timepool-monitor, which probes the volunteers' servers\nand submits what it saw to the monitor API; it needs no database access.")
set(CPACK_COMPONENT_MONITORAPI_DESCRIPTION "NTP server pool - central monitor API and scorer\n${desc_tail}\nThis package has timepool-monitor-api, which hands monitors their\nassignments, accepts their raw results and computes the scores.")
set(CPACK_COMPONENT_WEB_DESCRIPTION "NTP server pool - web site\n${desc_tail}\nThis package has timepool-web, the site for volunteers, vendors and\nadmins.")

foreach(comp ${timepool_components})
  string(TOUPPER ${comp} C)
  set(CPACK_DEBIAN_${C}_PACKAGE_NAME ${pkg_name_${comp}})
  set(CPACK_DEBIAN_${C}_PACKAGE_SECTION net)
  if(comp STREQUAL "common")
    set(CPACK_DEBIAN_${C}_PACKAGE_DEPENDS "adduser")
    set(CPACK_DEBIAN_${C}_PACKAGE_CONTROL_EXTRA
        "${TIMEPOOL_PKG_DIR}/debian/conffiles;${TIMEPOOL_PKG_DIR}/debian/postinst;${TIMEPOOL_PKG_DIR}/debian/postrm")
  else()
    set(CPACK_DEBIAN_${C}_PACKAGE_DEPENDS "timepool-common (= ${PROJECT_VERSION}-1)")
    set(CPACK_DEBIAN_${C}_PACKAGE_CONTROL_EXTRA
        "${TIMEPOOL_PKG_DIR}/debian/daemon/postinst;${TIMEPOOL_PKG_DIR}/debian/daemon/prerm;${TIMEPOOL_PKG_DIR}/debian/daemon/postrm")
  endif()
endforeach()
set(CPACK_DEBIAN_DNS_PACKAGE_SUGGESTS "tor-geoipdb")
set(CPACK_DEBIAN_COMMON_PACKAGE_SUGGESTS "postgresql")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
