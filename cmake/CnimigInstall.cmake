# Install layout (GNUInstallDirs), used by `cmake --install` and the .deb:
#   bin/cnimig-agent, bin/cnimig-sim
#   <sysconfdir>/cnimig-agent/config.yaml   (paths point at the installed resources)
#   <datadir>/cnimig-agent/resources/*.yaml
#   lib/systemd/system/cnimig-agent.service
#   <docdir>/README.md
include(GNUInstallDirs)

# Destinations are relative so `cmake --install --prefix P` and DESTDIR both
# relocate everything.
set(CNIMIG_INSTALL_CONFIG ${CMAKE_INSTALL_FULL_SYSCONFDIR}/cnimig-agent/config.yaml)

install(TARGETS cnimig-agent RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(TARGET cnimig-sim)
  install(TARGETS cnimig-sim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

file(GLOB CNIMIG_RESOURCE_FILES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/resources/*.yaml)
install(FILES ${CNIMIG_RESOURCE_FILES} DESTINATION ${CMAKE_INSTALL_DATADIR}/cnimig-agent/resources)

# The shipped config refers to ../resources relative to the source tree and
# the unit to /usr/bin and /etc; the installed copies name the installed
# paths, computed at install time from the prefix then in effect.
install(CODE "set(CNIMIG_SOURCE_DIR \"${PROJECT_SOURCE_DIR}\")
set(CNIMIG_STAGING_DIR \"${CMAKE_BINARY_DIR}/install\")
set(CNIMIG_BINDIR \"${CMAKE_INSTALL_BINDIR}\")
set(CNIMIG_DATADIR \"${CMAKE_INSTALL_DATADIR}\")")
install(SCRIPT ${PROJECT_SOURCE_DIR}/cmake/CnimigInstallGenerated.cmake)

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
# The build type keeps debug info (hundreds of MB); the package does not.
set(CPACK_STRIP_FILES ON)
file(WRITE ${CMAKE_BINARY_DIR}/install/conffiles "${CNIMIG_INSTALL_CONFIG}\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${CMAKE_BINARY_DIR}/install/conffiles)
include(CPack)
