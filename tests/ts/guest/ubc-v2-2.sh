#!/bin/bash
# Part 2 of 3 of ubc-v2.sh (read it).
. "$(dirname "$0")/ubc-v2.sh"
