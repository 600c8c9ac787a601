# `cmake --install`: binary, SQL, nginx snippets, systemd units, man page.
#
#   cmake --install build                   # under CMAKE_INSTALL_PREFIX (/usr/local)
#   cmake --install build --prefix /usr     # a packaging layout
#   DESTDIR=/tmp/stage cmake --install build --prefix /usr
#
# Layout (GNUInstallDirs, relative to the prefix):
#   bin/authgate
#   share/authgate/sql/install.sql
#   share/authgate/nginx/{authgate.conf,authgate-proxy-headers.conf,example.conf}
#   share/authgate/demo/...        the demo pages; example.conf serves them
#                                  from /usr/share/authgate/demo
#   share/authgate/examples/{authgate.env.example,authgate-spawn-fcgi.sh}
#   share/man/man1/authgate.1
#   lib/systemd/system/{authgate.socket,authgate.service}
#
# The systemd units go to AUTHGATE_SYSTEMD_UNITDIR: relative to the prefix
# (default lib/systemd/system: /usr/lib/systemd/system for --prefix /usr,
# /usr/local/lib/systemd/system for /usr/local; systemd reads both) or
# absolute (e.g. /etc/systemd/system). AUTHGATE_INSTALL_SYSTEMD=OFF leaves
# them out. authgate.service's ExecStart= is rewritten at install time to the
# installed binary, so `--prefix` given to `cmake --install` is honoured.
#
# Also here: the ctest entries deploy.* (Docker files, systemd units,
# spawn-fcgi, installation, man page); see tests/deploy/.

include(GNUInstallDirs)

option(AUTHGATE_INSTALL_SYSTEMD "Install the systemd socket and service units" ON)
set(AUTHGATE_SYSTEMD_UNITDIR "lib/systemd/system" CACHE STRING
  "Where the systemd units go: relative to the install prefix, or absolute")

install(TARGETS authgate RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

install(FILES sql/install.sql
  DESTINATION ${CMAKE_INSTALL_DATADIR}/authgate/sql)
install(FILES nginx/authgate.conf nginx/authgate-proxy-headers.conf
  nginx/example.conf
  DESTINATION ${CMAKE_INSTALL_DATADIR}/authgate/nginx)
install(FILES deploy/lighttpd/authgate.conf deploy/lighttpd/example.conf
  DESTINATION ${CMAKE_INSTALL_DATADIR}/authgate/lighttpd)
install(FILES deploy/apache/authgate.conf deploy/apache/example.conf
  DESTINATION ${CMAKE_INSTALL_DATADIR}/authgate/apache)
install(DIRECTORY nginx/demo/
  DESTINATION ${CMAKE_INSTALL_DATADIR}/authgate/demo)
install(FILES deploy/systemd/authgate.env.example
  DESTINATION ${CMAKE_INSTALL_DATADIR}/authgate/examples)
install(PROGRAMS deploy/spawn-fcgi/authgate-spawn-fcgi.sh
  DESTINATION ${CMAKE_INSTALL_DATADIR}/authgate/examples)
install(FILES docs/authgate.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

if(AUTHGATE_INSTALL_SYSTEMD)
  # Runs at install time, when CMAKE_INSTALL_PREFIX is the prefix actually
  # used (--prefix); DESTDIR is applied by file(INSTALL) only, never to
  # ExecStart=.
  string(CONFIGURE [==[
    set(authgate_bindir "@CMAKE_INSTALL_BINDIR@")
    if(NOT IS_ABSOLUTE "${authgate_bindir}")
      set(authgate_bindir "${CMAKE_INSTALL_PREFIX}/${authgate_bindir}")
    endif()
    set(authgate_unitdir "@AUTHGATE_SYSTEMD_UNITDIR@")
    if(NOT IS_ABSOLUTE "${authgate_unitdir}")
      set(authgate_unitdir "${CMAKE_INSTALL_PREFIX}/${authgate_unitdir}")
    endif()
    file(READ "@CMAKE_CURRENT_SOURCE_DIR@/deploy/systemd/authgate.service" authgate_unit)
    string(REPLACE "ExecStart=/usr/local/bin/authgate"
      "ExecStart=${authgate_bindir}/authgate" authgate_unit "${authgate_unit}")
    string(FIND "${authgate_unit}" "ExecStart=${authgate_bindir}/authgate\n" authgate_at)
    if(authgate_at EQUAL -1)
      message(FATAL_ERROR "deploy/systemd/authgate.service: no ExecStart=/usr/local/bin/authgate to rewrite")
    endif()
    file(WRITE "@CMAKE_CURRENT_BINARY_DIR@/deploy/systemd/authgate.service" "${authgate_unit}")
    file(INSTALL DESTINATION "${authgate_unitdir}" TYPE FILE FILES
      "@CMAKE_CURRENT_BINARY_DIR@/deploy/systemd/authgate.service"
      "@CMAKE_CURRENT_SOURCE_DIR@/deploy/systemd/authgate.socket")
  ]==] authgate_install_units @ONLY)
  install(CODE "${authgate_install_units}")
endif()

# ----------------------------------------------------------------- tests
# deploy.*: checks of the deployment files. They need no stack except
# deploy.fd0_spawn_fcgi (AUTHGATE_TEST_DB, like the integration suite).

find_program(AUTHGATE_DOCKER_COMPOSE NAMES docker-compose)
if(AUTHGATE_DOCKER_COMPOSE)
  add_test(NAME deploy.compose_config
    COMMAND ${AUTHGATE_DOCKER_COMPOSE} -f docker-compose.yml config -q
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
else()
  add_test(NAME deploy.compose_config
    COMMAND sh -c "echo 'docker-compose is not installed (Debian package docker-compose)'; exit 1")
endif()

add_test(NAME deploy.dockerfile_checks
  COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/deploy-check.sh
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})

add_test(NAME deploy.fd0_spawn_fcgi
  COMMAND bash ${CMAKE_SOURCE_DIR}/tests/deploy/test_fd0.sh $<TARGET_FILE:authgate>)

add_test(NAME deploy.cmake_install
  COMMAND bash ${CMAKE_SOURCE_DIR}/tests/deploy/test_install.sh
    ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})

add_test(NAME deploy.man_page
  COMMAND bash ${CMAKE_SOURCE_DIR}/tests/deploy/test_man_page.sh
    ${CMAKE_SOURCE_DIR}/docs/authgate.1 $<TARGET_FILE:authgate>)

add_test(NAME deploy.systemd_units
  COMMAND bash ${CMAKE_SOURCE_DIR}/tests/deploy/test_systemd_units.sh
    ${CMAKE_SOURCE_DIR}/deploy/systemd $<TARGET_FILE:authgate>)

add_test(NAME deploy.container_scripts
  COMMAND bash ${CMAKE_SOURCE_DIR}/tests/deploy/test_container_scripts.sh
    $<TARGET_FILE:authgate>)

set_property(TEST deploy.compose_config deploy.dockerfile_checks
  deploy.fd0_spawn_fcgi deploy.cmake_install deploy.man_page
  deploy.systemd_units deploy.container_scripts
  APPEND PROPERTY LABELS deploy)
