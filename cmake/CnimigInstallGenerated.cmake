# Runs at install time (install(SCRIPT) from CnimigInstall.cmake): the
# installed config.yaml and systemd unit name paths under the prefix in effect
# (`cmake --install --prefix P`, CPack's staging), which configure time cannot
# know. file(INSTALL) honours DESTDIR and records the install manifest.
# Inputs: CNIMIG_SOURCE_DIR, CNIMIG_STAGING_DIR, CNIMIG_BINDIR, CNIMIG_DATADIR.
set(prefix "${CMAKE_INSTALL_PREFIX}")
# GNUInstallDirs' rule: the /usr prefix keeps its configuration in /etc.
if(prefix STREQUAL "/usr")
  set(sysconf "/etc")
else()
  set(sysconf "${prefix}/etc")
endif()

file(READ "${CNIMIG_SOURCE_DIR}/config/config.yaml" text)
string(REPLACE "../resources/" "${prefix}/${CNIMIG_DATADIR}/cnimig-agent/resources/" text "${text}")
file(WRITE "${CNIMIG_STAGING_DIR}/config.yaml" "${text}")
file(INSTALL DESTINATION "${sysconf}/cnimig-agent" TYPE FILE FILES "${CNIMIG_STAGING_DIR}/config.yaml")

file(READ "${CNIMIG_SOURCE_DIR}/config/cnimig-agent.service" unit)
string(REPLACE "/usr/bin/cnimig-agent" "${prefix}/${CNIMIG_BINDIR}/cnimig-agent" unit "${unit}")
string(REPLACE "/etc/cnimig-agent/" "${sysconf}/cnimig-agent/" unit "${unit}")
file(WRITE "${CNIMIG_STAGING_DIR}/cnimig-agent.service" "${unit}")
file(INSTALL DESTINATION "${prefix}/lib/systemd/system" TYPE FILE
     FILES "${CNIMIG_STAGING_DIR}/cnimig-agent.service")
