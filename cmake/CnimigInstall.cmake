# Install layout (GNUInstallDirs), used by `cmake --install` and the .deb:
#   bin/cnimig-agent, bin/cnimig-sim
#   <sysconfdir>/cnimig-agent/config.yaml   (paths point at the installed resources)
#   <datadir>/cnimig-agent/resources/*.yaml
#   lib/systemd/system/cnimig-agent.service
#   <docdir>/README.md
include(GNUInstallDirs)

set(CNIMIG_INSTALL_RESOURCES ${CMAKE_INSTALL_FULL_DATADIR}/cnimig-agent/resources)
set(CNIMIG_INSTALL_CONFIG ${CMAKE_INSTALL_FULL_SYSCONFDIR}/cnimig-agent/config.yaml)

install(TARGETS cnimig-agent RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(TARGET cnimig-sim)
  install(TARGETS cnimig-sim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

file(GLOB CNIMIG_RESOURCE_FILES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/resources/*.yaml)
install(FILES ${CNIMIG_RESOURCE_FILES} DESTINATION ${CNIMIG_INSTALL_RESOURCES})

# The shipped config refers to ../resources relative to the source tree; the
# installed copy refers to the installed manifests instead.
file(READ ${PROJECT_SOURCE_DIR}/config/config.yaml CNIMIG_CONFIG_TEXT)
string(REPLACE "../resources/" "${CNIMIG_INSTALL_RESOURCES}/" CNIMIG_CONFIG_TEXT "${CNIMIG_CONFIG_TEXT}")
file(WRITE ${CMAKE_BINARY_DIR}/install/config.yaml "${CNIMIG_CONFIG_TEXT}")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/config/config.yaml)
install(FILES ${CMAKE_BINARY_DIR}/install/config.yaml DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/cnimig-agent)

file(READ ${PROJECT_SOURCE_DIR}/config/cnimig-agent.service CNIMIG_UNIT_TEXT)
string(REPLACE "/usr/bin/cnimig-agent" "${CMAKE_INSTALL_FULL_BINDIR}/cnimig-agent" CNIMIG_UNIT_TEXT "${CNIMIG_UNIT_TEXT}")
string(REPLACE "/etc/cnimig-agent/" "${CMAKE_INSTALL_FULL_SYSCONFDIR}/cnimig-agent/" CNIMIG_UNIT_TEXT
       "${CNIMIG_UNIT_TEXT}")
file(WRITE ${CMAKE_BINARY_DIR}/install/cnimig-agent.service "${CNIMIG_UNIT_TEXT}")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/config/cnimig-agent.service)
install(FILES ${CMAKE_BINARY_DIR}/install/cnimig-agent.service DESTINATION lib/systemd/system)

install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

# `cpack -G DEB` in the build directory makes a Debian package.
set(CPACK_PACKAGE_NAME cnimig-agent)
set(CPACK_PACKAGE_VENDOR "cnimig")
set(CPACK_PACKAGE_CONTACT "cnimig maintainers <maintainers@cnimig.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Live CNI migration of Kubernetes clusters to Cilium")
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libssl3, libyaml-cpp0.7, libspdlog1.10, libboost-json1.81.0")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
file(WRITE ${CMAKE_BINARY_DIR}/install/conffiles "${CNIMIG_INSTALL_CONFIG}\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${CMAKE_BINARY_DIR}/install/conffiles)
include(CPack)
