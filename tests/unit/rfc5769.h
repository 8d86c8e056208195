/* RFC 5769 §2.1: a Binding request with short-term credentials (USERNAME "evtj:h6vY",
 * ICE-CONTROLLED, SOFTWARE, PRIORITY, MESSAGE-INTEGRITY, FINGERPRINT), byte for byte. */
#pragma once

static const char rfc5769_request[] = "000100582112a442b7e7a701bc34d686fa87dfae"
                                      "802200105354554e207465737420636c69656e74"
                                      "002400046e0001ff80290008932ff9b151263b36"
                                      "000600096576746a3a683676592020200008001"
                                      "49aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a2"
                                      "80280004e57a3bcf";
static const char short_term_pw[] = "VOkJxbRl1RmTxUk/WvJxBt";
