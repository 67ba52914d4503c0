# Helpers that keep every module's CMakeLists.txt a few lines long and make the
# warning policy (-Wall -Wextra -Werror on our code only) impossible to forget.

# Boost's headers are system headers for us: warnings in them are not ours to fix.
# -Wmismatched-new-delete: GCC 12 reports a false positive on every Asio
# coroutine frame at -O2 (awaitable_frame_base's sized operator delete).
set(CNIMIG_WARNINGS -Wall -Wextra -Wpedantic -Werror -Wno-error=deprecated-declarations
    $<$<CXX_COMPILER_ID:GNU>:-Wno-mismatched-new-delete>)

function(cnimig_set_warnings target)
  target_compile_options(${target} PRIVATE ${CNIMIG_WARNINGS})
endfunction()

# cnimig_module(<name> SOURCES <files...> DEPS <targets...>)
# Declares the library target cnimig_<name> from src/<name>, with the public
# headers in include/cnimig/<name>.
function(cnimig_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  set(target cnimig_${name})
  add_library(${target} STATIC ${ARG_SOURCES})
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR}/include)
  target_link_libraries(${target} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  # No deprecated Asio API anywhere. (Beast's string_view is Boost's own,
  # which converts to std::string_view; BOOST_BEAST_USE_STD_STRING_VIEW is
  # deprecated in 1.81.)
  target_compile_definitions(${target} PUBLIC BOOST_ASIO_NO_DEPRECATED)
  cnimig_set_warnings(${target})
endfunction()

# cnimig_test(<name> SOURCES <files...> DEPS <targets...> [LABELS <labels...>])
# One Boost.Test executable registered as one CTest test.
function(cnimig_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} Boost::unit_test_framework)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/test-bin)
  cnimig_set_warnings(${name})
  add_test(NAME ${name} COMMAND ${name} --log_level=test_suite --report_level=short)
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  set_tests_properties(${name} PROPERTIES TIMEOUT ${ARG_TIMEOUT})
  if(ARG_LABELS)
    set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}")
  endif()
endfunction()
